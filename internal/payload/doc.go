// Package payload is the project's one place for working on JSON payloads
// as decoded values: JSON pointers (RFC 6901) to read, set and remove a
// member. The sandbox's triggers, the certification's payloads and the
// harness's steps all edit and read payloads through it, so a pointer means
// the same everywhere. Standard library only.
package payload
