@whatsapp @sandbox-only
Feature: Anything but a template needs the user to have written within 24 hours
  WhatsApp lets a business send a user anything but a template only within 24 hours of
  the user's last message to the sending number (the customer service window). The
  sandbox refuses such a message at once with Meta's code "131047" (re-engagement
  message). A user's message opens the window, or renews it; the window follows the
  account's clock. A template may be sent at any time.

  Background:
    Given my app has a current token

  @own-account
  Scenario: A text to a user who never wrote is refused with 131047, a template is not
    When I send the contract's "text" message
    Then the call is refused with code "131047"
    And the answer says "re-engagement message"
    When I send a message
    Then the message is accepted

  Scenario: A user's message opens the window for 24 hours, then a template is still allowed
    Given the user writes "Hi" to my business number
    When I send the contract's "text" message
    Then the message is accepted
    When the sandbox clock moves on 23 hours
    And I send the contract's "image" message
    Then the message is accepted
    When the sandbox clock moves on 2 hours
    And I send the contract's "text" message
    Then the call is refused with code "131047"
    And the answer says "more than 24 hours ago"
    When I send a message
    Then the message is accepted

  Scenario: A new message from the user renews the window
    Given the user writes "Hi" to my business number
    When the sandbox clock moves on 20 hours
    And the user writes "Still there?" to my business number
    And the sandbox clock moves on 20 hours
    And I send the contract's "text" message
    Then the message is accepted

  Scenario: One recipient without a window refuses the whole send
    Given the user "6285234567899" writes "Hi" to my business number
    When I send the contract's "text" message with /recipientNumber = "6285234567899,6285234567800"
    Then the call is refused with code "131047"
    And the answer says "6285234567800"
