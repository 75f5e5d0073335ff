// Package deploy holds no code. Its tests check the deployment files at the
// repository root (Dockerfile, docker-compose.yml) and the CI snippets under
// examples/ci (with their copies in the README) against the binary they
// package: the subcommands, flags and environment variables they name must
// exist, the health checks must use the healthcheck subcommand on the right
// port, state must live on a named volume, and the image must run as a
// non-root user. They read the files and run the built binary; they never
// need a container engine.
package deploy
