@sandbox-only
Feature: Fire any event, and misbehave on purpose
  POST /_sandbox/events fires any event type of the contract at an app, built from its
  example with fresh ids and times and changed by JSON pointers; a change the payload
  schema refuses is a 400 naming the field, and nothing is pushed. A webhook's chaos
  settings make deliveries misbehave as a real network may: pushed twice with the same
  event id (duplicate), a send's reports in reverse order (reorder), a first attempt
  lost and redelivered a second later (drop), held back for a while (delay). Each
  configuration's decisions come from its seed, so a run can be repeated.

  Background:
    Given my app has a current token

  @whatsapp
  Scenario: A triggered event with overrides reaches my webhook as changed
    Given my app's whatsapp webhook points at my receiver
    When I trigger a "whatsapp_message_status_updated" event at my app with /body/status = "failed"; /body/errorData = {"errorCode":"131026","errorMessage":"Message undeliverable"}; /body/conversation removed
    Then the sandbox took the event for my app
    And my receiver gets a "whatsapp_message_status_updated" push with:
      | /body/status              | failed   |
      | /body/errorData/errorCode | 131026   |
      | /body/conversation        | <absent> |
    And every payload received validates against its schema

  Scenario Outline: A trigger the payload schema refuses is a 400 naming <field>
    When I trigger a "<type>" event at my app with <change>
    Then the request is refused naming "<field>"

    @whatsapp
    Examples: WhatsApp events
      | type                                 | change                     | field              |
      | whatsapp_message_status_updated      | /body/status = "seen"      | /body/status       |
      | whatsapp_message_status_updated      | /id = "mine"               | /id                |
      | whatsapp_mo_message_received         | /body/type = "fax"         | /body/type         |
      | whatsapp_template_status_updated     | /body/category = "PROMO"   | /body/category     |
      | whatsapp_phone_number_quality_update | /body/messageLimit = "500" | /body/messageLimit |

    @otp
    Examples: OTP events
      | type              | change        | field   |
      | otp_status_report | /status = "7" | /status |

    @sms
    Examples: SMS events
      | type                    | change                | field    |
      | sms_status_report       | /extra = "x"          | /extra   |
      | sms_status_report       | /nothere removed      | /nothere |
      | sms_mo_message_received | /moTime = "yesterday" | /moTime  |

  Scenario: An event type the contract does not have is a 400 naming the type
    When I trigger a "whatsapp_message_status_update" event at my app
    Then the request is refused naming "/type"

  @whatsapp
  Scenario: A duplicated push arrives twice with the same event id
    Given my app's whatsapp webhook points at my receiver with chaos:
      | duplicate | 1 |
    When I trigger a "whatsapp_phone_number_quality_update" event at my app
    Then my receiver gets the triggered event 2 times
    And the delivery log shows the triggered event as "delivered" after 2 attempts
    And the attempt log reads:
      | attempt | answer | outcome   |
      | 1       | 200    | delivered |
      | 2       | 200    | duplicate |

  @whatsapp
  Scenario: A dropped push is redelivered a second later with the same event id
    Given my app's whatsapp webhook points at my receiver with chaos:
      | drop | 1 |
    When I trigger a "chat_mo_message_notify" event at my app
    Then the delivery log shows the triggered event as "pending" after 1 attempt
    When the sandbox clock moves on 1 second
    Then my receiver gets the triggered event 1 time
    And the delivery log shows the triggered event as "delivered" after 2 attempts
    And the attempt log reads:
      | attempt | answer | outcome   |
      | 1       | none   | dropped   |
      | 2       | 200    | delivered |

  @whatsapp
  Scenario: Reordered reports bring read before delivered
    Given my app's whatsapp webhook points at my receiver with chaos:
      | reorder | 1 |
    When I send a message
    Then the message is accepted
    When the sandbox clock moves on 2 seconds
    Then my receiver gets the "read" report for my message
    When the sandbox clock moves on 2 seconds
    Then my receiver gets the "delivered" report for my message
    And my receiver got the "read" report for my message before the "delivered" one

  @whatsapp
  Scenario: A delayed push waits for the sandbox clock to pass its delay
    Given my app's whatsapp webhook points at my receiver with chaos:
      | seed  | 1  |
      | delay | 1h |
    When I trigger a "whatsapp_phone_number_quality_update" event at my app
    Then the delivery log shows the triggered event as "pending" after 0 attempts
    When the sandbox clock moves on 1 hour
    Then my receiver gets the triggered event 1 time
    And the delivery log shows the triggered event as "delivered" after 1 attempt
