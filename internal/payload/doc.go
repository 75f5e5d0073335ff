// Package payload is the project's one place for working on JSON payloads:
// JSON pointers (RFC 6901) to read, set and remove a member of a decoded
// payload, and Writer, which writes the sandbox's payloads byte by byte. The sandbox's triggers, the certification's payloads and the
// harness's steps all edit and read payloads through it, so a pointer means
// the same everywhere. Standard library only.
package payload
