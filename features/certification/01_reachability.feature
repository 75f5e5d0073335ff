Feature: Your endpoint can be reached, over HTTPS
  InnoPaaS pushes events to the URL you configured for your webhook, with the method you
  chose (POST unless you chose PUT) and, when you set them, the UserName and Authorization
  headers exactly as you configured them. Your credentials travel with every push, so the
  connection must be encrypted and your endpoint must prove who it is.

  When your endpoint cannot be reached, no other check can run: they are reported as not run.

  @CERT-REACH-01 @required
  Scenario: Your endpoint answers a push
    When InnoPaaS pushes a valid event with your credentials
    Then your endpoint answers it with an HTTP status

  @CERT-TLS-01 @recommended
  Scenario: Your endpoint uses HTTPS with a valid certificate
    When InnoPaaS connects to your endpoint
    Then the connection is encrypted with TLS 1.2 or later
    And your certificate is trusted, valid for your host name and not expired
