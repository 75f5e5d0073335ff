@sandbox-only
Feature: Real clients work against the sandbox unchanged
  Each scenario replays what a public client of InnoPaaS sends, in its own shape (headers
  and body as the client writes them), and checks what that client needs in the answer to
  see success. The clients: two versions of a Go backend's OTP integration (with its SMS
  fallback), two versions of a Java backend's WhatsApp OTP templates, and the Python sample
  of the docs' getting-started page. Written as facts, in our own words; numbers are under
  the unassigned country code 999.

  Background:
    Given my app has a current token

  @otp
  Scenario: The older Go OTP client sends digits and reads success
    # It sent Content-Type application/json, the token raw and the key as appKey, and
    # took "success" as the outcome and "data" as the message id.
    Given the client's headers are:
      | Content-Type  | application/json |
      | Authorization | <my token>       |
      | appKey        | <my app>         |
    When it sends POST "/api/otp/v3/msg/send/verify" with:
      """
      {"to":"99900612345","type":"3","language":"en","code":"1234"}
      """
    Then the sandbox answers HTTP 200
    And the answer's success is true
    And the answer's data is a string

  @otp
  Scenario: The newer Go OTP client sends E.164 with a template and reads code "000000"
    # It writes "to" with a leading +, may name a console template and a sender, and takes
    # only code "000000" as success; it never reads "success".
    Given the client's headers are:
      | Content-Type  | application/json |
      | Authorization | <my token>       |
      | appKey        | <my app>         |
    When it sends POST "/api/otp/v3/msg/send/verify" with:
      """
      {"type":"3","language":"en","to":"+99900612345","code":"482913","templateId":"T-10001","sender":"RideCo"}
      """
    Then the answer's code is "000000"
    And the answer's data is a string
    And the sandbox gave no warning

  @otp
  Scenario: The newer Go OTP client signs its request when it has an app secret
    # With a secret it sends x-appKey, x-nonce and x-timestamp (both its Unix time in
    # milliseconds) and x-signature, the MD5 of the sorted parameters and the secret,
    # instead of AppKey and Authorization.
    Given my app has a secret for signed requests
    When the newer OTP client signs and sends:
      """
      {"type":"1","language":"en","to":"+99900612345","code":"482913","sender":"RideCo"}
      """
    Then the answer's code is "000000"
    And the answer's data is a string

  @sms
  Scenario: The newer Go client's SMS fallback reads data as an object with messageId
    # When an OTP send of type "3" or "1" fails it sends the code by SMS, and decodes the
    # answer as {code, message, data: {messageId}}: a bare string fails its decoding.
    Given the client's headers are:
      | Content-Type  | application/json |
      | Authorization | <my token>       |
      | appKey        | <my app>         |
    When it sends POST "/api/sms/v3/msg/send" with:
      """
      {"mobile":"99900612345","msg":"Your code is 482913"}
      """
    Then the answer's code is "0"
    And the answer's data is an object whose "messageId" is a string

  @whatsapp
  Scenario: The older Java client names its WhatsApp OTP template
    # It sent templateName with language "id", the code as the body parameter and on a
    # copy-code button, and took code "0" as success and data, as text, as the message id.
    Given my WABA has the approved template "otp_login" in "id" with 1 body parameter
    And the client's headers are:
      | Content-Type  | application/json;charset=utf-8 |
      | Authorization | <my token>                     |
      | AppKey        | <my app>                       |
    When it sends POST "/api/whatsapp/v3/msg/submit" with:
      """
      {"wabaId":"110129512080569","messageType":"template","sendNumber":"8618912123456",
       "recipientNumber":"99900612345","language":"id","templateName":"otp_login",
       "bodyParams":["482913"],"buttonParams":[{"type":"text","value":"482913"}]}
      """
    Then the answer's code is "0"
    And the answer's data is a string

  @whatsapp
  Scenario: The newer Java client names a template group instead
    # The same request with templateGroupId in place of templateName.
    Given my WABA has the approved template "otp_login" in "id" with 1 body parameter
    And my WABA's template group "group_otp_test" holds "otp_login" in "id"
    And the client's headers are:
      | Content-Type  | application/json;charset=utf-8 |
      | Authorization | <my token>                     |
      | AppKey        | <my app>                       |
    When it sends POST "/api/whatsapp/v3/msg/submit" with:
      """
      {"wabaId":"110129512080569","messageType":"template","sendNumber":"8618912123456",
       "recipientNumber":"99900612345","language":"id","templateGroupId":"group_otp_test",
       "bodyParams":["482913"],"buttonParams":[{"type":"text","value":"482913"}]}
      """
    Then the answer's code is "0"
    And the answer's data is a string
    And the sandbox gave no warning

  @whatsapp
  Scenario: The docs' Python sample sends only Authorization and AppKey
    # Its headers are the token and the key; Python's requests, given the body as json,
    # adds Content-Type application/json without a charset.
    Given the client's headers are:
      | Authorization | <my token>       |
      | AppKey        | <my app>         |
      | Content-Type  | application/json |
    When it sends POST "/api/whatsapp/v3/msg/submit" with:
      """
      {"wabaId":"110129512080569","messageType":"template","sendNumber":"8618912123456",
       "recipientNumber":"99900612345","language":"en_US","templateName":"otp_login",
       "bodyParams":["245098"]}
      """
    Then the answer's code is "0"
    And the answer's data is a string
