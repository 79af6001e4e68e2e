// Package netem impairs a point-to-point link in user space: loss, delay,
// jitter and reordering, per direction, reproducible from a seed. It is the
// Go counterpart of Linux's sch_netem for kernels built without it (such as
// the machines this project's CI runs on), and what the interop suite puts
// between two network namespaces.
//
// A Shaper decides, packet by packet, whether to drop it and when to
// deliver it. Run copies IP packets between two TUN devices (see OpenTUN
// and Attach, Linux only) through one Shaper per direction. KernelNetem
// reports whether the kernel can do the job itself with tc netem, which the
// interop suite prefers where it exists.
//
// This is test infrastructure: it lives under interop/internal and is used
// by the interop tests and by cmd/wire. It uses the standard library only.
package netem
