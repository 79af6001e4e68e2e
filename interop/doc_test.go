//go:build interop

// Package interop runs xphone's packages against real third-party peers
// (Kamailio, SIPp, baresip, coturn) on loopback and through an impaired link
// between network namespaces. It is built only with -tags interop: see
// README.md and run.sh. Every peer is started by the harness in
// harness_test.go on free loopback ports, in its own t.TempDir(), and is
// stopped (its whole process group) in t.Cleanup.
package interop
