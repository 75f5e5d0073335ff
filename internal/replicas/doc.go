// Package replicas holds the tests of several sandboxes sharing one
// PostgreSQL store, as `innosandbox serve` replicas behind a load balancer
// do: each test starts two in-process sandboxes (server, dispatcher and
// HTTP listener each) on one fresh schema and checks through their HTTP
// APIs that they behave as one sandbox. The tests need
// INNOSANDBOX_TEST_POSTGRES_DSN and skip without it.
package replicas
