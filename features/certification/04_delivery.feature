Feature: Your endpoint copes with how webhooks are delivered
  InnoPaaS delivers every event at least once: a push that is not answered with a 2xx in
  time is pushed again, so the same event can arrive twice. The events of one message can
  arrive in any order. New fields can appear in payloads at any time, and a message can be
  as long as its channel allows.

  @CERT-DUP-01 @required
  Scenario: The same event delivered twice is accepted both times
    When InnoPaaS pushes the same event twice, with the same id
    Then both pushes are answered with a 2xx

  @CERT-ORDER-01 @required
  Scenario: Status reports that arrive out of order are accepted
    Given you subscribed to your product's status reports
    When InnoPaaS pushes a message's later status report before its earlier one
    Then both pushes are answered with a 2xx

  @CERT-COMPAT-01 @required
  Scenario: Unknown fields in a payload are accepted
    When InnoPaaS pushes a valid event that also carries fields you do not know yet
    Then it is answered with a 2xx

  @CERT-SIZE-01 @required
  Scenario: A large valid payload is accepted
    Given you subscribed to an event that carries a message's text
    When InnoPaaS pushes a message whose text is as long as its channel allows
    Then it is answered with a 2xx
