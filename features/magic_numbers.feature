@sandbox-only
Feature: Magic recipient numbers ask for an outcome other than success
  A recipient number under the unassigned country code 999 asks the sandbox for an
  outcome, with no control call: 99910 fails (the digits after it are the failure
  code), 99920 is delivered but never read, 99930 is read before it is delivered, 99940
  gets no report at all, 99950 fails with SMECL:FAILED. Every product reads the same
  prefixes, each in its own terms. The outcomes are observed at a real receiver.

  Background:
    Given my app has a current token

  @whatsapp
  Scenario Outline: A WhatsApp message to <number> gets the reports "<reports>"
    Given my app's whatsapp webhook points at my receiver
    When I send a message to the number "<number>"
    Then the message is accepted
    And the delivery log holds <count> "whatsapp_message_status_updated" events for my message
    When the sandbox clock moves on 5 seconds
    Then my receiver gets the reports "<reports>" for my message, in that order of eventTime
    And every payload received validates against its schema

    Examples:
      | number        | reports         | count |
      | 6285234567899 | delivered, read | 2     |
      | 99910131051   | failed          | 1     |
      | 99920123      | delivered       | 1     |
      | 99930123      | read, delivered | 2     |
      | 99950123      | SMECL:FAILED    | 1     |

  @whatsapp
  Scenario: A WhatsApp message to a 99940 number gets no report at all
    Given my app's whatsapp webhook points at my receiver
    When I send a message to the number "99940123"
    Then the message is accepted
    And the delivery log holds 0 "whatsapp_message_status_updated" events for my message

  @whatsapp
  Scenario Outline: A failed WhatsApp report carries Meta's error code <code>
    Given my app's whatsapp webhook points at my receiver
    When I send a message to the number "<number>"
    Then the message is accepted
    When the sandbox clock moves on 2 seconds
    Then my receiver gets a "whatsapp_message_status_updated" push with:
      | /body/id                     | <my message> |
      | /body/status                 | failed       |
      | /body/sendPhone              | <number>     |
      | /body/errorData/errorCode    | <code>       |
      | /body/errorData/errorMessage | <message>    |

    Examples:
      | number      | code   | message                  |
      | 99910131051 | 131051 | Unsupported message type |
      | 99910131026 | 131026 | Message undeliverable    |
      | 99910       | 131026 | Message undeliverable    |
      | 99910424242 | 424242 | Meta error 424242        |

  @sms
  Scenario Outline: An SMS to <number> is reported <status>
    Given my app's sms webhook points at my receiver
    When I send an SMS "Hello" to "<number>"
    Then the message is accepted
    When the sandbox clock moves on 3 seconds
    Then my receiver gets a "sms_status_report" push with:
      | /msgid  | <my message> |
      | /mobile | <number>     |
      | /status | <status>     |
    And every payload received validates against its schema

    Examples:
      | number        | status  |
      | 6285234567899 | DELIVRD |
      | 99910         | UNDELIV |
      | 999101        | UNDELIV |
      | 999102        | EXPIRED |
      | 999103        | REJECTD |
      | 999104        | UNKNOWN |
      | 999105        | DELETED |
      | 999107        | UNDELIV |
      | 99920123      | DELIVRD |
      | 99930123      | DELIVRD |
      | 99950123      | DELIVRD |
      | 0099910312    | REJECTD |

  @sms
  Scenario: An SMS to a 99940 number gets no report, the send's other numbers do
    Given my app's sms webhook points at my receiver
    When I send an SMS "Hello" to "8613800138000,999103,99940123"
    Then the message is accepted
    And the delivery log holds 2 "sms_status_report" events for my message
    When the sandbox clock moves on 3 seconds
    Then my receiver gets a "sms_status_report" push with:
      | /mobile | 999103  |
      | /status | REJECTD |
    And my receiver gets a "sms_status_report" push with:
      | /mobile | 8613800138000 |
      | /status | DELIVRD       |

  @otp
  Scenario Outline: An OTP code to <number> ends with status <status>
    Given my app's otp webhook points at my receiver
    When I send the OTP code "245098" to "<number>"
    Then the message is accepted
    When the sandbox clock moves on 2 seconds
    Then my receiver gets a "otp_status_report" push with:
      | /messageId | <my message> |
      | /status    | 0            |
    When the sandbox clock moves on 2 seconds
    Then my receiver gets a "otp_status_report" push with:
      | /messageId  | <my message> |
      | /mobile     | <number>     |
      | /status     | <status>     |
      | /code       | <code>       |
      | /errCode    | <errCode>    |
      | /errMessage | <errMessage> |
    And every payload received validates against its schema

    Examples:
      | number        | status | code    | errCode | errMessage                                         |
      | 6285234567899 | 2      | success | <null>  | <null>                                             |
      | 99910         | 1      | failed  | 1       | undelivered: the operator could not deliver the message |
      | 999102        | 1      | failed  | 2       | expired: the message was not delivered in time     |
      | 999103        | 1      | failed  | 3       | rejected by the operator                           |
      | 999104        | 1      | failed  | 4       | unknown: the operator reported no final state      |
      | 999105        | 1      | failed  | 5       | deleted by the operator before delivery            |
      | 99910777      | 1      | failed  | 777     | failed with code 777                               |
      | 99920123      | 2      | success | <null>  | <null>                                             |
      | 99930123      | 2      | success | <null>  | <null>                                             |
      | 99950123      | 2      | success | <null>  | <null>                                             |

  @otp
  Scenario: An OTP code to a 99940 number gets no push at all, not even in progress
    Given my app's otp webhook points at my receiver
    When I send the OTP code "245098" to "99940123"
    Then the message is accepted
    And the delivery log holds 0 "otp_status_report" events for my message
