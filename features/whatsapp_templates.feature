@whatsapp @sandbox-only
Feature: Templates are reviewed, and only an approved template can be sent
  POST /api/whatsapp/v3/template/submit creates a template that is PENDING until Meta
  has reviewed it; the outcome comes as a whatsapp_template_status_updated push. The
  sandbox reviews on the account's clock: 10 seconds, then APPROVED, or REJECTED with a
  reason when the name starts with "reject_" (never, for "pending_"). A send names an approved template in its
  language with as many body parameters as the template has variables; otherwise it is
  refused: "143" no such template (in that language), and WhatsApp's own codes "132001"
  not approved, "132015" paused, "132016" disabled, "132000" parameters that do not fit.

  Background:
    Given my app has a current token
    And my app's whatsapp webhook points at my receiver

  @own-account
  Scenario: A submitted template is PENDING, then APPROVED after the review, with a push
    When I submit the contract's "utility" template named "order_update_v2"
    Then the template is accepted as PENDING
    When I send the template "order_update_v2" in "en" with 2 body parameters and a header parameter
    Then the call is refused with code "132001"
    When the sandbox clock moves on 10 seconds
    Then my receiver gets a "whatsapp_template_status_updated" push with:
      | /body/templateName     | order_update_v2     |
      | /body/templateLanguage | en                  |
      | /body/templateStatus   | APPROVED            |
      | /body/reason           | NONE                |
      | /body/category         | UTILITY             |
      | /body/templateId       | <the template's id> |
      | /body/wabaId           | 110129512080569     |
    When I send the template "order_update_v2" in "en" with 2 body parameters and a header parameter
    Then the message is accepted

  @own-account
  Scenario: A template whose name starts with reject_ is REJECTED with a reason, and cannot be sent
    When I submit the contract's "authentication" template named "reject_common_otp"
    Then the template is accepted as PENDING
    When the sandbox clock moves on 10 seconds
    Then my receiver gets a "whatsapp_template_status_updated" push with:
      | /body/templateName   | reject_common_otp |
      | /body/templateStatus | REJECTED          |
      | /body/reason         | INVALID_FORMAT    |
      | /body/category       | AUTHENTICATION    |
    When I send the template "reject_common_otp" in "en_US" with 0 body parameters
    Then the call is refused with code "132001"
    And the answer says "REJECTED"

  @own-account
  Scenario: A template whose name starts with pending_ is never reviewed
    When I submit the contract's "utility" template named "pending_order_v1"
    Then the template is accepted as PENDING
    When the sandbox clock moves on 30 days
    And I send the template "pending_order_v1" in "en" with 2 body parameters and a header parameter
    Then the call is refused with code "132001"
    And the answer says "PENDING"
    And the delivery log holds 0 "whatsapp_template_status_updated" events

  @own-account
  Scenario: A template with a media header takes the handle of an uploaded file
    When I upload a file "sale.jpg" of type "image/jpeg"
    Then the file is accepted with a handle starting "4::"
    When I submit the contract's "marketing" template named "summer_sale" with /headerExample/header_handle/0 = "<my handle>"
    Then the template is accepted as PENDING

  @own-account
  Scenario: The same name and language twice is refused
    When I submit the contract's "utility" template named "order_update_v3"
    Then the template is accepted as PENDING
    When I submit the contract's "utility" template named "order_update_v3"
    Then the sandbox answers HTTP 409 with code "409"

  Scenario Outline: A template that breaks the contract is refused, naming <field>
    When I submit the contract's "<example>" template with <change>
    Then the sandbox answers HTTP 400 with code "400"
    And the answer says "<field>"

    Examples:
      | example        | change                                 | field                  |
      | utility        | /name = "Order Shipped"                | /name                  |
      | utility        | /category = "4"                        | /category              |
      | marketing      | /buttons/0/actionType = "4"            | /buttons/0/actionType  |
      | utility        | /safetyAdvice = 1                      | safetyAdvice           |
      | authentication | /footer = "91"                         | /footer                |
      | marketing      | /headerExample/header_handle/0 = "abc" | /headerExample/header_handle/0 |

  Scenario Outline: Sending a template that is <state> is refused with code <code>
    Given my app is my account's default app
    And the template "otp_login" in "en_US" is set to <state>
    Then my receiver gets a "whatsapp_template_status_updated" push with:
      | /body/templateName   | otp_login |
      | /body/templateStatus | <state>   |
    When I send the template "otp_login" in "en_US" with 1 body parameter
    Then the call is refused with code "<code>"

    Examples:
      | state    | code   |
      | PAUSED   | 132015 |
      | DISABLED | 132016 |
      | REJECTED | 132001 |

  @own-account
  Scenario Outline: A template send that does not fit the template is refused: <case>
    Given my WABA has the approved template "order_shipped_v1" in "en" with 2 body parameters and a header parameter
    When I send the template "<name>" in "<language>" with <params> body parameters and <header> header parameter
    Then the call is refused with code "<code>"
    And the answer says "<says>"

    Examples:
      | case                     | name             | language | params | header | code   | says                 |
      | another language         | otp_login        | en_GB    | 1      | no     | 143    | it has it in en_US   |
      | too few body parameters  | otp_login        | en_US    | 0      | no     | 132000 | has 1 body variables |
      | too many body parameters | otp_login        | en_US    | 2      | no     | 132000 | bodyParams gives 2   |
      | no header parameter      | order_shipped_v1 | en       | 2      | no     | 132000 | header.paramValue    |
      | an unknown name          | order_shipped_v2 | en       | 2      | a      | 143    | has no template      |
