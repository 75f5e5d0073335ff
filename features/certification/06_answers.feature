Feature: Your endpoint answers plainly
  InnoPaaS reads only the status of your answer. It never follows a redirect: a 3xx answer
  means the push was not received. Keep the body of your answers short, and never put your
  credentials in them.

  These checks look at every answer your endpoint gave during the certification.

  @CERT-HTTP-01 @required
  Scenario: No push is answered with a redirect
    When InnoPaaS looks at every answer your endpoint gave
    Then none of them is a redirect

  @CERT-HTTP-02 @required
  Scenario: No answer echoes your Authorization
    Given you configured an Authorization for your webhook
    When InnoPaaS looks at every answer your endpoint gave
    Then none of them contains your Authorization

  @CERT-HTTP-03 @recommended
  Scenario: Answers have a small body
    When InnoPaaS looks at every answer your endpoint gave
    Then none of them has a body larger than 4 KiB
