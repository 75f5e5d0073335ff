@whatsapp
Feature: Uploading a media file for a template header
  POST /api/whatsapp/v3/uploadFile takes a multipart/form-data body with one part named
  "file" of a documented type (application/pdf, image/jpeg, image/jpg, image/png,
  video/mp4) and answers a handle beginning "4::", which a template's
  headerExample.header_handle takes. The sandbox refuses another file type with HTTP 415,
  a form without a file part with 400, a body that is not a form with 415 and a body
  over 16 MiB with 413 (InnoPaaS documents no code or limit for them).

  Background:
    Given my app has a current token

  @sends
  Scenario Outline: A <type> file is accepted with a handle
    When I upload a file "<name>" of type "<type>"
    Then the file is accepted with a handle starting "4::"
    And the handle names the type "<type>"

    Examples:
      | name        | type            |
      | invoice.pdf | application/pdf |
      | photo.jpeg  | image/jpeg      |
      | photo.jpg   | image/jpg       |
      | logo.png    | image/png       |
      | clip.mp4    | video/mp4       |

  @sandbox-only
  Scenario Outline: A <type> file is refused with 415, naming the types allowed
    When I upload a file "<name>" of type "<type>"
    Then the sandbox answers HTTP 415 with code "415"
    And the answer says "application/pdf, image/jpeg, image/jpg, image/png or video/mp4"

    Examples:
      | name      | type       |
      | anim.gif  | image/gif  |
      | notes.txt | text/plain |
      | clip.mov  | video/quicktime |

  @sandbox-only
  Scenario: A form without a file part is refused
    When I upload a form whose only part is "document"
    Then the sandbox answers HTTP 400 with code "400"
    And the answer says "file"

  @sandbox-only
  Scenario: A body that is not a form is refused
    When I upload a file as "application/json"
    Then the sandbox answers HTTP 415 with code "415"

  @sandbox-only
  Scenario: A body over 16 MiB is refused with 413
    When I upload a PNG file of 16 MiB and one byte
    Then the sandbox answers HTTP 413 with code "413"
    And the answer says "larger than 16777216 bytes"
