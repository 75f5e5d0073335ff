@routing @webhooks @sandbox-only @whatsapp
Feature: Users' messages reach the right app
  When a user writes to a business number, InnoPaaS pushes a
  whatsapp_mo_message_received event to the app the number is bound to; failing that,
  to the app the WABA is bound to; failing that, to the account's default app. With
  none of them, the message is dropped, and the sandbox says why.

  Background:
    Given an app "orders" whose whatsapp webhook points at its own receiver
    And an app "support" whose whatsapp webhook points at its own receiver

  Scenario: A message to a bound number goes to that number's app
    Given the number "8613800000001" is bound to the app "orders"
    And the app "support" is my account's default app
    When a user writes "Where is my parcel?" to the number "8613800000001"
    Then the sandbox routed it to the app "orders" by "binding:number"
    And the receiver of "orders" gets the user's message "Where is my parcel?"

  Scenario: A message to an unbound number of a bound WABA goes to the WABA's app
    Given the WABA "110129512080999" is bound to the app "orders"
    And the app "support" is my account's default app
    When a user writes "Hello" to the number "8613800000002" of the WABA "110129512080999"
    Then the sandbox routed it to the app "orders" by "binding:waba"
    And the receiver of "orders" gets the user's message "Hello"

  Scenario: A message no binding claims goes to the default app
    Given the number "8613800000001" is bound to the app "orders"
    And the app "support" is my account's default app
    When a user writes "Can I talk to someone?" to the number "8613800000003"
    Then the sandbox routed it to the app "support" by "default-app"
    And the receiver of "support" gets the user's message "Can I talk to someone?"

  Scenario: A message no binding claims is dropped when there is no default app
    Given the number "8613800000001" is bound to the app "orders"
    And my account has no default app
    When a user writes "Anyone there?" to the number "8613800000004"
    Then the sandbox routed it to no app
    And the message is dropped because "has no default app"
    And no receiver gets it

  Scenario: A message to an app without a webhook is dropped
    Given my app has a current token
    And the number "8613800000005" is bound to my app
    When a user writes "Hi" to the number "8613800000005"
    Then the sandbox routed it to my app by "binding:number"
    But the message is dropped because "has no whatsapp webhook configured"

  Scenario: A user's message arrives exactly as written
    Given the number "8613800000007" is bound to the app "orders"
    When a user writes to the number "8613800000007":
      """
      Olá! ¿Qué tal? 你好 👋 — "quoted", back\slash, <b>tags</b> & ampersands
      a second line	with a tab, and U+2028 here:   end
      """
    Then the receiver of "orders" gets the user's message exactly as written

  Scenario: A message of a type the app's webhook does not tick is not pushed anywhere
    Given my app has a current token
    And my app's whatsapp webhook points at my receiver with:
      | events | whatsapp_message_status_updated |
    And the number "8613800000006" is bound to my app
    And the app "support" is my account's default app
    When a user writes "Hi" to the number "8613800000006"
    Then the sandbox routed it to my app by "binding:number"
    But the message is dropped because "does not subscribe to whatsapp_mo_message_received"
    And no receiver gets it

  Scenario: A reply to a sent message reaches the sending app with the message's context
    Given my app has a current token
    And my app's whatsapp webhook points at my receiver
    When I send a message
    Then the message is accepted
    When the user replies "Yes, please" to my message
    Then the sandbox routed it to my app by "binding:number"
    And my receiver gets the user's message "Yes, please"
    And the reply carries the context of my message
