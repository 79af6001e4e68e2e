//go:build interop && linux && amd64

package interop

const sysSetns = 308 // setns(2) on linux/amd64; syscall has no SYS_SETNS here
