@messages @whatsapp
Feature: Sending WhatsApp messages
  A send names the WABA, the message type, the sending number and up to 1000
  comma-separated recipients. InnoPaaS documents code "108" for a malformed number and
  "109" for a wrong number of numbers, answered like any InnoPaaS answer (HTTP 200 with
  the envelope). The sandbox refuses a body that breaks the contract with HTTP 400 and a
  message naming the field, warns about fields the contract does not know, and answers
  calls to paths or methods the API does not have with its error envelope.

  Background:
    Given my app has a current token

  # Made-up numbers: on a real endpoint these would be sent (or, if the limit were
  # not enforced, 1001 of them), so they run on the sandbox only.
  @sandbox-only
  Scenario: More than 1000 recipients are refused with code 109
    When I send a message to 1001 recipients
    Then the call is refused with code "109"

  @sandbox-only
  Scenario: 1000 recipients are accepted
    When I send a message to 1000 recipients
    Then the message is accepted

  @sends
  Scenario Outline: A malformed recipient number is refused with code 108: <number>
    When I send a message to the number "<number>"
    Then the call is refused with code "108"

    Examples:
      | number          |
      | +99900612345    |
      | 999 852 345 678 |
      | 1234            |

  @sandbox-only
  Scenario: A body without a required field is refused, naming the field
    When I send a message without the field "sendNumber"
    Then the sandbox answers HTTP 400 with code "400"
    And the answer says "sendNumber"

  @sandbox-only
  Scenario: A field the contract does not know is accepted with a warning
    When I send a message with an extra field "recipientNumbers"
    Then the message is accepted
    And the sandbox warns that the field "/recipientNumbers" is ignored

  @sandbox-only
  Scenario: A path the API does not have is answered with the error envelope
    When I call POST "/api/whatsapp/v3/msg/sub" with my credentials
    Then the sandbox answers HTTP 404 with code "404"

  @sandbox-only
  Scenario: A method the path does not take is answered with the error envelope
    When I call GET "/api/whatsapp/v3/msg/submit" with my credentials
    Then the sandbox answers HTTP 405 with code "405"
