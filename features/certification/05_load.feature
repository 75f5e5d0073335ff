Feature: Your endpoint answers fast, also under load
  InnoPaaS waits a limited time for your answer (3 seconds unless your platform team set
  another limit): a push not answered by then counts as failed and is pushed again. Events
  come in bursts, for example when a campaign's status reports arrive: answer first, and do
  the slow work afterwards.

  @CERT-TIME-01 @required
  Scenario: Pushes are answered within the time limit
    When InnoPaaS pushes valid events one after another
    Then 95% of them are answered within the time limit

  @CERT-BURST-01 @required
  Scenario: A burst of concurrent pushes gets no server error
    When InnoPaaS pushes a burst of valid events at the same time
    Then none of them is answered with a 5xx or left unanswered
