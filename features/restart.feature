@restart @sandbox-only @whatsapp
Feature: A sandbox that keeps its state in a file survives a restart
  Started on a state file, the sandbox comes back after a restart with everything it
  had: apps, tokens (the current one still works, a superseded one still fails),
  webhook configurations and bindings.

  Scenario: Tokens and webhooks survive a restart
    Given a sandbox of my own that keeps its state in a file
    And my app has a current token
    And my app's token was superseded by a newer one
    And my app's whatsapp webhook points at my receiver
    And the number "8613800000020" is bound to my app
    When the sandbox restarts
    And I send a message with the current token
    Then the message is accepted
    When I send a message with the previous token
    Then the call is refused
    And the sandbox says why: "token-superseded"
    When a user writes "Still there?" to the number "8613800000020"
    Then my receiver gets the user's message "Still there?"
