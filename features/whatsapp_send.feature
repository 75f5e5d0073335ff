@whatsapp
Feature: Every WhatsApp message type, and every rule of a send
  POST /api/whatsapp/v3/msg/submit takes ten message types; each needs its own fields:
  text a body, template a name and a language, media types a link (a document also a
  file name, audio no caption), location, contacts and interactive their objects. A
  body that breaks these rules breaks the contract, which the sandbox answers with
  HTTP 400 naming the field. The rules InnoPaaS answers with its own code come after:
  "105" a uid over 32 characters, "106" a text over 3000 characters, "108" a malformed
  number, "109" more than 1000 numbers, "143" no such template, "118" a sending number
  that is not one of the WABA's. Each message type needs the user to have written
  within 24 hours, except a template (see the session window feature).

  Background:
    Given my app has a current token

  @sandbox-only
  Scenario Outline: A <example> message is accepted and reported
    Given my WABA has the approved template "order_shipped_v1" in "en" with 2 body parameters
    And my app's whatsapp webhook points at my receiver
    And the user writes "Hi" to my business number
    When I send the contract's "<example>" message
    Then the message is accepted
    When the sandbox clock moves on 5 seconds
    Then my receiver gets the "delivered" report for my message
    And every payload received validates against its schema

    Examples:
      | example            |
      | template           |
      | templateWithHeader |
      | text               |
      | image              |
      | video              |
      | audio              |
      | document           |
      | sticker            |
      | location           |
      | contacts           |
      | interactiveButtons |
      | interactiveList    |

  @sandbox-only
  Scenario Outline: A <example> message that breaks its rule is refused, naming <field>
    When I send the contract's "<example>" message with <change>
    Then the sandbox answers HTTP 400 with code "400"
    And the answer says "<field>:"

    Examples:
      | example            | change                                   | field                         |
      | text               | /body removed                            | /body                         |
      | text               | /body = ""                               | /body                         |
      | template           | /templateName removed                    | /templateName                 |
      | template           | /language removed                        | /language                     |
      | template           | /language = "english"                    | /language                     |
      | image              | /media/link removed                      | /media/link                   |
      | video              | /media removed                           | /media                        |
      | sticker            | /media/link = ""                         | /media/link                   |
      | document           | /media/filename removed                  | /media/filename               |
      | audio              | /media/caption = "Listen to this"        | /media                        |
      | location           | /location/longitude removed              | /location/longitude           |
      | location           | /location removed                        | /location                     |
      | contacts           | /contacts = []                           | /contacts                     |
      | contacts           | /contacts/0/name/formattedName removed   | /contacts/0/name/formattedName |
      | interactiveButtons | /interactive/body removed                | /interactive/body             |
      | interactiveButtons | /interactive/type = "carousel"           | /interactive/type             |
      | interactiveList    | /interactive/action/button removed       | /interactive/action/button    |
      | text               | /messageType = "fax"                     | /messageType                  |

  Scenario Outline: A send InnoPaaS refuses with its own code: <rule>
    When I send a message with <change>
    Then the call is refused with code "<code>"

    @sends
    Examples:
      | rule                             | change                           | code |
      | a uid of 33 characters           | /uid = <33 characters>           | 105  |
      | a recipient with a dash          | /recipientNumber = "999-852"     | 108  |
      | an empty recipient in the list   | /recipientNumber = "99900612345,"    | 108  |
      | a recipient of 21 digits         | /recipientNumber = "123456789012345678901" | 108 |

    # Made-up numbers: an endpoint that did not enforce the limit would send to them.
    @sandbox-only
    Examples:
      | rule                             | change                           | code |
      | 1001 recipients                  | /recipientNumber = <1001 numbers> | 109 |

  @sends
  Scenario: A uid of 32 characters is accepted
    When I send a message with /uid = <32 characters>
    Then the message is accepted

  @sandbox-only
  Scenario: A text of 3001 characters is refused with code 106, one of 3000 accepted
    Given the user writes "Hi" to my business number
    When I send the contract's "text" message with /body = <3001 characters>
    Then the call is refused with code "106"
    When I send the contract's "text" message with /body = <3000 characters>
    Then the message is accepted

  @sandbox-only
  Scenario: A template the WABA does not have is refused with code 143
    When I send the template "no_such_template" in "en_US" with 1 body parameter
    Then the call is refused with code "143"
    And the answer says "WhatsApp template not found"

  @sandbox-only
  Scenario: A sending number that is not one of the WABA's is refused with code 118
    Given my WABA's sending number is "8618912123456"
    When I send a message with /sendNumber = "8618900000000"
    Then the call is refused with code "118"
    And the answer says "its numbers: 8618912123456"
