//go:build interop && linux && arm64

package interop

import "syscall"

const sysSetns = syscall.SYS_SETNS
