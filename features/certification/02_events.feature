Feature: Your endpoint accepts every event you subscribed to
  Every event type you ticked for your webhook reaches your endpoint as a push whose body
  is the event's JSON payload, exactly as the InnoPaaS documentation describes it. A push
  counts as received when your endpoint answers it with a 2xx status; any other answer
  makes InnoPaaS push it again later.

  @CERT-EVENT-01 @required
  Scenario: Every subscribed event is accepted
    When InnoPaaS pushes every subscribed event with your credentials
    Then each is answered with a 2xx
