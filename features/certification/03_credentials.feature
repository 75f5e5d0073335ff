Feature: Your endpoint refuses pushes that do not carry your credentials
  Anyone who knows your URL can send it requests. When you configure a UserName and an
  Authorization for your webhook, InnoPaaS sends them as the UserName and Authorization
  headers of every push, exactly as configured; refuse every push that does not carry them
  with 401 or 403, so that forged events never reach your systems.

  These checks apply only when you configured credentials for your webhook: without them,
  they are reported as a recommendation to configure some.

  @CERT-AUTH-01 @required
  Scenario: A push without credentials is refused
    Given you configured credentials for your webhook
    When InnoPaaS pushes a valid event without UserName and Authorization
    Then it is refused with 401 or 403

  @CERT-AUTH-02 @required
  Scenario: A push with a wrong Authorization is refused
    Given you configured an Authorization for your webhook
    When InnoPaaS pushes a valid event with a wrong Authorization
    Then it is refused with 401 or 403

  @CERT-AUTH-03 @recommended
  Scenario: A push with a wrong UserName is refused
    Given you configured a UserName for your webhook
    When InnoPaaS pushes a valid event with a wrong UserName
    Then it is refused with 401 or 403
