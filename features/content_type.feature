@content-type @whatsapp
Feature: Request bodies are JSON in UTF-8
  InnoPaaS asks for "Content-Type: application/json;charset=utf-8". The sandbox takes
  application/json with or without the charset, in any case and with spaces around the
  semicolon, and refuses any other media type or charset with HTTP 415 and a message
  that says what to send.

  Background:
    Given my app has a current token

  @sends
  Scenario Outline: JSON is accepted however its Content-Type is spelled: <content type>
    When I send a message with Content-Type "<content type>"
    Then the message is accepted

    Examples:
      | content type                      |
      | application/json;charset=utf-8    |
      | application/json                  |
      | APPLICATION/JSON;CHARSET=UTF-8    |
      | application/json; charset=utf-8   |
      | Application/Json ; Charset=UTF-8  |

  @sandbox-only
  Scenario Outline: A body sent as <content type> is refused
    When I send a message with Content-Type "<content type>"
    Then the sandbox answers HTTP 415 with code "415"
    And the answer says "send application/json;charset=utf-8"

    Examples:
      | content type                      |
      | text/plain                        |
      | application/x-www-form-urlencoded |
      | application/json;charset=latin1   |
      | application/xml                   |

  @sandbox-only
  Scenario: A body without a Content-Type is refused
    When I send a message without the Content-Type header
    Then the sandbox answers HTTP 415 with code "415"
    And the answer says "Content-Type is missing"

  @sandbox-only
  Scenario: A body with an empty Content-Type is refused
    When I send a message with an empty Content-Type header
    Then the sandbox answers HTTP 415 with code "415"
