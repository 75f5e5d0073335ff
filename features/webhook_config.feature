@webhooks @sandbox-only @whatsapp
Feature: Webhook configurations are checked when they are saved
  An app has at most one webhook configuration per product: the URL InnoPaaS pushes
  events to, the event types it subscribes to, the method (POST by default, or PUT)
  and optionally the UserName and Authorization headers every push carries. The
  sandbox refuses a configuration it could not honour, naming the field at fault.
  The Authorization is write-only: the sandbox shows it masked (its last 4 characters at most).

  Background:
    Given my app has a current token

  Scenario: A complete configuration is saved as given
    When I configure my app's whatsapp webhook with:
      | url           | <my receiver>                                                 |
      | events        | whatsapp_message_status_updated, whatsapp_mo_message_received |
      | method        | PUT                                                           |
      | username      | shop                                                          |
      | authorization | s3cret                                                        |
    Then the configuration is saved as given

  Scenario: Without a method, pushes are made with POST
    When I configure my app's whatsapp webhook with:
      | url    | <my receiver>                   |
      | events | whatsapp_message_status_updated |
    Then the configuration is saved as given

  Scenario Outline: A webhook URL that cannot be pushed to is refused: <url>
    When I configure my app's whatsapp webhook with:
      | url | <url> |
    Then the configuration is refused naming "/url"

    Examples:
      | url                          |
      | ftp://example.com/events     |
      | example.com/events           |
      | http://                      |
      | https://example.com/hook#top |
      | mailto:ops@example.com       |

  Scenario Outline: An event type the product does not have is refused: <events>
    When I configure my app's whatsapp webhook with:
      | events | <events> |
    Then the configuration is refused naming "<field>"

    Examples:
      | events                                                          | field     |
      | whatsapp_message_status_update                                  | /events/0 |
      | whatsapp_message_status_updated, sms_status_report              | /events/1 |
      | whatsapp_message_status_updated, whatsapp_message_status_updated | /events   |

  Scenario Outline: A push method other than POST or PUT is refused: <method>
    When I configure my app's whatsapp webhook with:
      | method | <method> |
    Then the configuration is refused naming "/method"

    Examples:
      | method |
      | GET    |
      | DELETE |
      | PATCH  |
