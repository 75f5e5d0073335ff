@sandbox-only
Feature: Every event type reaches a configured webhook, and validates against its schema
  Every push the receivers get is judged against its payload schema twice: by the
  contract's own validator (kin-openapi, which the sandbox uses too) and by an
  independent JSON Schema 2020-12 validator, so a bug in one is caught by the other.
  Real flows raise most events (sends, simulated inbound messages, template reviews);
  POST /_sandbox/events fires the rest, built from the contract's example of the type.

  Background:
    Given my app has a current token

  @whatsapp
  Scenario Outline: A user's <type> message reaches the app bound to the business number
    Given my app's whatsapp webhook points at my receiver
    And the number "8618912123456" is bound to my app
    When a user sends a "<type>" message to my business number
    Then the sandbox routed it to my app by "binding:number"
    And my receiver gets a "whatsapp_mo_message_received" push with:
      | /body/type     | <type>          |
      | /body/<member> | <present>       |
      | /body/to       | 8618912123456   |
      | /body/from     | 6285234567899   |
      | /body/context  | <absent>        |
    And every payload received validates against its schema

    Examples:
      | type        | member      |
      | text        | text        |
      | reaction    | reaction    |
      | image       | image       |
      | audio       | audio       |
      | video       | video       |
      | sticker     | sticker     |
      | document    | document    |
      | unknown     | errors      |
      | location    | location    |
      | contacts    | contacts    |
      | button      | button      |
      | interactive | interactive |
      | order       | order       |
      | system      | system      |

  @whatsapp
  Scenario Outline: A reply of type <type> carries the context of the message it answers
    Given my app's whatsapp webhook points at my receiver
    When I send a message
    Then the message is accepted
    When the user replies to my message with a "<type>" message
    Then my receiver gets a "whatsapp_mo_message_received" push with:
      | /body/type         | <type>        |
      | /body/context/from | 8618912123456 |
      | /body/context/id   | <present>     |
    And every payload received validates against its schema

    Examples:
      | type        |
      | text        |
      | button      |
      | interactive |
      | reaction    |

  @whatsapp
  Scenario Outline: A triggered <type> event reaches my whatsapp webhook
    Given my app's whatsapp webhook points at my receiver
    When I trigger a "<type>" event at my app with:
      | <pointer> | <value> |
    Then the sandbox took the event for my app
    And my receiver gets a "<type>" push with:
      | <pointer> | <value> |
    And every payload received validates against its schema

    Examples:
      | type                                 | pointer             | value                   |
      | whatsapp_phone_number_quality_update | /body/event         | DOWNGRADE               |
      | whatsapp_phone_number_quality_update | /body/messageLimit  | Unlimited               |
      | chat_mt_message_notify               | /body/context/text  | Your parcel has shipped |
      | chat_mo_message_notify               | /body/context/text  | Thanks!                 |
      | whatsapp_template_status_updated     | /body/templateStatus | PAUSED                 |
      | whatsapp_message_status_updated      | /body/uid           | batch-7                 |
      | whatsapp_mo_message_received         | /body/text/body     | Triggered hello         |

  @otp
  Scenario: A triggered OTP status reaches my otp webhook
    Given my app's otp webhook points at my receiver
    When I trigger a "otp_status_report" event at my app with:
      | /status     | 1           |
      | /code       | failed      |
      | /errCode    | 3           |
      | /errMessage | rejected    |
    Then the sandbox took the event for my app
    And my receiver gets a "otp_status_report" push with:
      | /status  | 1        |
      | /errCode | 3        |
      | /appKey  | <my app> |
    And every payload received validates against its schema

  @sms
  Scenario: A triggered SMS status report reaches my sms webhook
    Given my app's sms webhook points at my receiver
    When I trigger a "sms_status_report" event at my app with:
      | /status | EXPIRED |
    Then the sandbox took the event for my app
    And my receiver gets a "sms_status_report" push with:
      | /status | EXPIRED |
    And every payload received validates against its schema
