@webhooks @sandbox-only @whatsapp
Feature: Status reports are pushed to the sending app's webhook
  After a send, InnoPaaS pushes whatsapp_message_status_updated events (delivered, then
  read) to the webhook of the app that sent the message. A push carries
  "Content-Type: application/json;charset=utf-8" and exactly the UserName and
  Authorization headers configured for the webhook, none when none are configured,
  with the configured method. The sandbox raises "delivered" one second and "read"
  three seconds after the send, on the account's clock.

  Background:
    Given my app has a current token

  Scenario: Reports are pushed with POST and no credentials when none are configured
    Given my app's whatsapp webhook points at my receiver
    When I send a message
    Then the message is accepted
    When the sandbox clock moves on 5 seconds
    Then my receiver gets the "delivered" report for my message
    And the push was made with POST
    And the push carries neither UserName nor Authorization
    And my receiver gets the "read" report for my message

  Scenario: Reports carry the configured UserName and Authorization
    Given my app's whatsapp webhook points at my receiver with:
      | username      | shop          |
      | authorization | Basic czNjcmV0 |
    When I send a message
    Then the message is accepted
    When the sandbox clock moves on 5 seconds
    Then my receiver gets the "delivered" report for my message
    And the push carries UserName "shop" and Authorization "Basic czNjcmV0"

  Scenario: Reports are pushed with PUT when the webhook asks for it
    Given my app's whatsapp webhook points at my receiver with:
      | method   | PUT  |
      | username | shop |
    When I send a message
    Then the message is accepted
    When the sandbox clock moves on 5 seconds
    Then my receiver gets the "delivered" report for my message
    And the push was made with PUT

  Scenario: A send to several recipients gets reports for each of them under one message id
    Given my app's whatsapp webhook points at my receiver
    When I send a message to the number "6285200000001,6285200000002,6285200000003"
    Then the message is accepted
    When the sandbox clock moves on 5 seconds
    Then my receiver gets a "delivered" report for each recipient, with its own wamid
    And my receiver gets a "read" report for each recipient, with its own wamid

  Scenario: Reports come on their own as the clock passes
    Given my app's whatsapp webhook points at my receiver
    When I send a message
    Then the message is accepted
    And my receiver gets the "delivered" report for my message
