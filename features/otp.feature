@otp
Feature: Sending verification codes and receiving their status
  POST /api/otp/v3/msg/send/verify (known from client code only) sends a code the caller
  generated to one number, written as E.164 with a + (the newer client) or digits only (the
  older one); the answer's code is "000000" (what the newer client checks; the sandbox answers
  "0" with --otp-success-code 0), it carries success (what the older client read), and data
  is the message id. The app's OTP webhook gets two flat status pushes: "0" in progress one
  second after the send, then "2" succeeded (or "1" failed, with errCode and errMessage)
  three seconds after it, on the account's clock.

  Background:
    Given my app has a current token

  @sandbox-only
  Scenario: A code is accepted, then pushed in progress and succeeded
    Given my app's otp webhook points at my receiver with:
      | username      | shop   |
      | authorization | s3cret |
    When I send the OTP code "024680" to "6285234567899"
    Then the message is accepted
    And the answer's success is true
    When the sandbox clock moves on 2 seconds
    Then my receiver gets a "otp_status_report" push with:
      | /messageId | <my message>  |
      | /appKey    | <my app>      |
      | /mobile    | 6285234567899 |
      | /status    | 0             |
      | /code      | success       |
    When the sandbox clock moves on 2 seconds
    Then my receiver gets a "otp_status_report" push with:
      | /messageId  | <my message> |
      | /status     | 2            |
      | /code       | success      |
      | /errCode    | <null>       |
      | /errMessage | <null>       |
    And the push carries UserName "shop" and Authorization "s3cret"
    And every payload received validates against its schema

  Scenario Outline: An OTP send InnoPaaS refuses with its own code: <rule>
    When I send an OTP with <change>
    Then the call is refused with code "<code>"
    And the answer's success is false

    # Every number here is under 999, a country calling code no phone has, so even an
    # endpoint that took it would message no one: a real endpoint may run these.
    @sends
    Examples: malformed numbers
      | rule                 | change                 | code |
      | a plus and a space   | /to = "+999 00612345"  | 108  |
      | two plus signs       | /to = "++99900612345"  | 108  |
      | a number of 4 digits | /to = "6285"           | 108  |

    @sandbox-only
    Examples: more than one number
      | rule        | change                              | code |
      | two numbers | /to = "6285234567899,8613800138000" | 109  |

  @sandbox-only
  Scenario: The newer client's E.164 number, template and sender are accepted with "000000"
    When I send an OTP with /to = "+6285234567899"; /templateId = "T-10001"; /sender = "Shop"
    Then the message is accepted
    And the sandbox answers HTTP 200 with code "000000"
    And the answer's success is true
    And the sandbox gave no warning

  @sandbox-only
  Scenario Outline: An OTP send that breaks the contract is refused, naming <field>
    When I send an OTP with <change>
    Then the sandbox answers HTTP 400 with code "400"
    And the answer says "<field>:"

    Examples:
      | change          | field |
      | /code removed   | /code |
      | /code = 1234    | /code |
      | /type = "otp"   | /type |
      | /to removed     | /to   |
