// Package payload is the project's one place for working on JSON payloads:
// JSON pointers (RFC 6901) to read, set and remove a member of a decoded
// payload; Refresh, which gives a contract example fresh ids and times of
// the example's shapes (one list of members, one set of shape rules); the
// ids payloads carry (message ids, UUIDs, wamids); and Writer, which writes
// the sandbox's payloads byte by byte. The sandbox's triggers and sends,
// the certification's payloads and the harness's steps all work on
// payloads through it, so a pointer, an id and a refresh mean the same
// everywhere. Standard library only.
package payload
