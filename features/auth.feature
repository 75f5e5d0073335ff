@auth @whatsapp
Feature: Calls are authenticated with AppKey and Authorization
  Every call to the InnoPaaS API carries the application's AppKey and its current
  access token, raw, in the Authorization header. InnoPaaS documents only that a call
  whose credentials fail is refused with a code other than "0"; the sandbox answers
  HTTP 401 with code "102" and one message for every cause, and tells a developer
  the cause in the sandbox-only X-Sandbox-Auth-Reason header.

  Background:
    Given my app has a current token

  @sends
  Scenario: A call with the app's AppKey and current token is accepted
    When I send a message
    Then the message is accepted

  Scenario Outline: A call without <header> is refused
    When I send a message without the <header> header
    Then the call is refused
    And the sandbox says why: "header-missing:<header>"

    Examples:
      | header        |
      | AppKey        |
      | Authorization |

  Scenario Outline: A call with an empty <header> is refused
    When I send a message with an empty <header> header
    Then the call is refused
    And the sandbox says why: "header-empty:<header>"

    Examples:
      | header        |
      | AppKey        |
      | Authorization |

  Scenario: A call with an AppKey no app has is refused
    When I send a message with a wrong AppKey
    Then the call is refused
    And the sandbox says why: "appkey-unknown"

  Scenario: A call with a token that was never issued is refused
    When I send a message with a wrong Authorization
    Then the call is refused
    And the sandbox says why: "token-invalid"

  @sandbox-only
  Scenario: A call with another app's token is refused
    When I send a message with another app's token
    Then the call is refused
    And the sandbox says why: "token-other-app"

  @sandbox-only
  Scenario Outline: A call that gives <header> twice is refused
    When I send a message with the <header> header given twice
    Then the call is refused
    And the sandbox says why: "header-repeated:<header>"

    Examples:
      | header        |
      | AppKey        |
      | Authorization |

  @sandbox-only
  Scenario: A token sent with a "Bearer " prefix is refused, since InnoPaaS takes it raw
    When I send a message with the token prefixed by "Bearer "
    Then the call is refused
    And the sandbox says why: "token-bearer-prefix"
