// Package certify certifies a partner's webhook endpoint: it runs the
// certification features (package features/certification) against the
// partner's URL, pushing InnoPaaS events built from the contract's examples,
// and grades what the endpoint answers, check by check, with evidence.
//
// The pieces:
//
//   - checks.go reads the check list (id, severity, title) from the
//     features and gives it a SHA-256, so that two reports can be compared;
//   - plan.go decides, from the options, which checks apply and how many
//     pushes each one makes, before anything is sent;
//   - push.go is the only sender: one URL, a bounded number of pushes, a
//     rate limit, no redirects followed, secrets masked in the evidence;
//   - steps.go binds the Gherkin steps to a per-scenario world;
//   - engine.go runs the checks in phases (see phases) and builds a Result;
//   - report_*.go write the Result as HTML, JUnit XML, JSON and a summary.
//
// Package fixtures holds in-process receivers, a correct one and one broken
// per check, that the tests certify.
package certify
