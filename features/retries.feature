@retries @webhooks @sandbox-only @whatsapp
Feature: Failed pushes are tried again
  A push counts as received when the webhook answers 2xx. Otherwise the sandbox tries
  again on the account's clock: three attempts in all, the second one minute after the
  first and the third two minutes after the second. A 410 Gone answer stops at once,
  and Retry-After is honoured on 429 and 503. Every attempt pushes the same event, with
  the same id, and is kept in the delivery log. A wait is counted from the attempt
  before it, so an attempt still to be made when the clock moves on is made at once,
  and the next wait starts from there.

  Background:
    Given my app has a current token
    And my app's whatsapp webhook points at my receiver
    And the number "8613800000010" is bound to my app

  Scenario: A push that failed once is delivered on the next attempt
    Given my receiver answers 500, then 200
    When a user writes "Hello" to the number "8613800000010"
    Then my receiver gets the user's message 1 time
    And the delivery log shows the user's message as "pending" after 1 attempt
    When the sandbox clock moves on 1 minute
    Then my receiver gets the user's message 2 times
    And the delivery log shows the user's message as "delivered" after 2 attempts
    And the attempt log reads:
      | attempt | answer | outcome   |
      | 1       | 500    | retry     |
      | 2       | 200    | delivered |
    And no further attempt is planned

  Scenario: A push that keeps failing is given up after three attempts
    Given my receiver answers 503
    When a user writes "Hello" to the number "8613800000010"
    Then my receiver gets the user's message 1 time
    When the sandbox clock moves on 1 minute
    Then my receiver gets the user's message 2 times
    When the sandbox clock moves on 2 minutes
    Then my receiver gets the user's message 3 times
    And the delivery log shows the user's message as "failed" after 3 attempts
    And the attempt log reads:
      | attempt | answer | outcome |
      | 1       | 503    | retry   |
      | 2       | 503    | retry   |
      | 3       | 503    | failed  |
    And no further attempt is planned

  Scenario: A push given up on can be replayed with its event id
    Given my receiver answers 500
    When a user writes "Hello" to the number "8613800000010"
    Then my receiver gets the user's message 1 time
    When the sandbox clock moves on 1 minute
    Then my receiver gets the user's message 2 times
    When the sandbox clock moves on 2 minutes
    Then the delivery log shows the user's message as "failed" after 3 attempts
    When my receiver answers 200
    And I replay the user's message from the delivery log
    Then my receiver gets the user's message 4 times
    And the delivery log shows the user's message as "delivered" after 4 attempts

  Scenario: A webhook that answers 410 Gone is not tried again
    Given my receiver answers 410
    When a user writes "Hello" to the number "8613800000010"
    Then my receiver gets the user's message 1 time
    And the delivery log shows the user's message as "failed" after 1 attempt
    And the attempt log reads:
      | attempt | answer | outcome |
      | 1       | 410    | gone    |
    And no further attempt is planned

  Scenario: Retry-After on a 429 answer sets the next attempt
    Given my receiver answers 429 with Retry-After "30", then 200
    When a user writes "Hello" to the number "8613800000010"
    Then my receiver gets the user's message 1 time
    And the delivery log shows the user's message as "pending" after 1 attempt
    And the next attempt is planned 30 seconds after the first
    When the sandbox clock moves on 30 seconds
    Then my receiver gets the user's message 2 times
    And the delivery log shows the user's message as "delivered" after 2 attempts
