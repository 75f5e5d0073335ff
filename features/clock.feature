@clock @sandbox-only
Feature: Each account has a sandbox clock of its own
  Token expiry, scheduled status reports and retry backoff follow the account's sandbox
  clock: real time plus an offset that the control API moves. Every account has its own,
  so that parallel users of one sandbox never move each other's time. The clock stays
  within 100 years of real time.

  Scenario: Moving my account's clock leaves another account's alone
    Given another account
    When the sandbox clock moves on 30 days
    Then my account's clock is 30 days ahead of the other account's

  @own-account
  Scenario: The clock does not run more than 100 years ahead
    When the sandbox clock moves on 60 years
    And I try to move the sandbox clock on 60 years
    Then the request is refused naming "/by"
    And my account's clock is 21900 days ahead of real time
