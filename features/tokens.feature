@auth @tokens @whatsapp
Feature: Access tokens
  An app has one current token. Issuing a new token invalidates every earlier token of
  the app; a token never expires unless an expiry date was chosen when it was issued.
  In the sandbox, tokens are issued and revoked through its control API, and time is
  moved on through its clock, which token expiry follows.

  Background:
    Given my app has a current token

  @sandbox-only @sends
  Scenario: A newly issued token works at once
    When I issue a new token for my app
    Then I am given a new token, different from the previous one
    When I send a message
    Then the message is accepted

  @sandbox-only @sends
  Scenario: Issuing a new token invalidates the previous one
    When I issue a new token for my app
    And I send a message with the previous token
    Then the call is refused
    And the sandbox says why: "token-superseded"
    And my app's token history shows the previous token as "superseded"
    When I send a message with the current token
    Then the message is accepted

  Scenario: A superseded token is refused
    Given my app's token was superseded by a newer one
    When I send a message with the previous token
    Then the call is refused
    And the sandbox says why: "token-superseded"

  @sandbox-only
  Scenario: A revoked token is refused
    When I revoke my app's token
    And I send a message with the previous token
    Then the call is refused
    And the sandbox says why: "token-revoked"
    And my app's token history shows the previous token as "revoked"

  @sandbox-only @sends
  Scenario: A token works until its expiry and is refused after it
    Given my app has a token that expires in 24 hours
    When the sandbox clock moves on 23 hours
    And I send a message
    Then the message is accepted
    When the sandbox clock moves on 2 hours
    And I send a message
    Then the call is refused
    And the sandbox says why: "token-expired"

  @sandbox-only @sends
  Scenario: A token cannot be issued already expired, and the current one stays
    When I ask for a token for my app that expired 1 hour ago
    Then the request is refused naming "/expiresAt"
    When I send a message
    Then the message is accepted

  @sandbox-only @sends
  Scenario: A token issued without an expiry still works ten years later
    Given my app has a token that never expires
    When the sandbox clock moves on 10 years
    And I send a message
    Then the message is accepted
