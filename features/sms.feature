@sms
Feature: Sending SMS and receiving their status reports
  POST /api/sms/v3/msg/send sends one text to one or more comma-separated numbers; data
  is one msgid for the submission. Each number gets its own status report, a flat JSON
  push (no envelope) with status DELIVRD when delivered: to the send's callBackUrl when it
  names one, else to the app's SMS webhook. The sandbox reports 2 seconds after the send,
  on the account's clock. InnoPaaS refuses with its own codes: "105" a uid over 64
  characters, "106" a text over 2000 characters, "108" a malformed number, "109" more
  than 1000 numbers. Users' replies come as SMS MO pushes.

  Background:
    Given my app has a current token

  @sandbox-only
  Scenario: Each number of a send gets its own status report at the app's SMS webhook
    Given my app's sms webhook points at my receiver with:
      | username      | shop   |
      | authorization | s3cret |
    When I send an SMS "Your code is 245098" to "8613800138000,6285234567899"
    Then the message is accepted
    And the delivery log holds 2 "sms_status_report" events for my message
    When the sandbox clock moves on 3 seconds
    Then my receiver gets a "sms_status_report" push with:
      | /msgid    | <my message>  |
      | /mobile   | 8613800138000 |
      | /status   | DELIVRD       |
      | /receiver | shop          |
      | /pswd     | s3cret        |
      | /regionCode | CN          |
    And my receiver gets a "sms_status_report" push with:
      | /msgid    | <my message>  |
      | /mobile   | 6285234567899 |
      | /status   | DELIVRD       |
    And the push carries UserName "shop" and Authorization "s3cret"
    And every payload received validates against its schema

  @sandbox-only
  Scenario: A send's callBackUrl receives its reports instead of the app's webhook
    Given my app's sms webhook points at my receiver
    When I send an SMS to "6285234567899" with a callback receiver as its callBackUrl
    Then the message is accepted
    When the sandbox clock moves on 3 seconds
    Then the callback receiver gets a "sms_status_report" push with:
      | /msgid  | <my message>  |
      | /mobile | 6285234567899 |
      | /status | DELIVRD       |
    And the delivery log holds 1 "sms_status_report" event for my message
    And every payload received validates against its schema

  @sandbox-only
  Scenario: A user's SMS reply reaches the app's SMS webhook
    Given my app's sms webhook points at my receiver with:
      | username | shop |
    When I trigger a "sms_mo_message_received" event at my app with:
      | /mobile   | 6285234567899 |
      | /msg      | STOP          |
      | /destcode | 10690000      |
    Then the sandbox took the event for my app
    And my receiver gets a "sms_mo_message_received" push with:
      | /mobile   | 6285234567899 |
      | /msg      | STOP          |
      | /receiver | shop          |
      | /pswd     |               |
    And every payload received validates against its schema

  @sandbox-only
  Scenario: An SMS to one number is accepted with a msgid
    When I send an SMS "Hello" to "6285234567899"
    Then the message is accepted

  Scenario Outline: An SMS InnoPaaS refuses with its own code: <rule>
    When I send an SMS with <change>
    Then the call is refused with code "<code>"

    # Every number here is under 999, a country calling code no phone has, so even an
    # endpoint that took it would message no one: a real endpoint may run these.
    @sends
    Examples: malformed numbers
      | rule                 | change                         | code |
      | a number with a plus | /mobile = "+99900612345"       | 108  |
      | a number of 4 digits | /mobile = "6285"               | 108  |

    # Were a real endpoint not to refuse these, they would go out: sandbox only.
    @sandbox-only
    Examples: limits
      | rule                      | change                         | code |
      | a list with a bad number  | /mobile = "6285,6285234567899" | 108  |
      | a uid of 65 characters    | /uid = <65 characters>         | 105  |
      | a text of 2001 characters | /msg = <2001 characters>       | 106  |
      | 1001 numbers              | /mobile = <1001 numbers>       | 109  |

  @sandbox-only
  Scenario Outline: An SMS that breaks the contract is refused, naming <field>
    When I send an SMS with <change>
    Then the sandbox answers HTTP 400 with code "400"
    And the answer says "<field>:"

    Examples:
      | change                                  | field        |
      | /msg removed                            | /msg         |
      | /mobile removed                         | /mobile      |
      | /callBackUrl = "ftp://example.com/sms"  | /callBackUrl |
