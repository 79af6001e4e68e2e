package netem

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"unsafe"
)

// Linux TUN interface (include/uapi/linux/if_tun.h).
const (
	tunSetIFF = 0x400454ca // TUNSETIFF = _IOW('T', 202, int)
	iffTUN    = 0x0001
	iffNoPI   = 0x1000 // no packet-information header: reads are bare IP packets
)

// OpenTUN creates the TUN device name (at most 15 bytes) in the current
// network namespace and returns it open for reading and writing IP
// packets, one per Read or Write. Closing the file deletes the device.
// It needs CAP_NET_ADMIN. The file uses the runtime poller, so Close
// unblocks a pending Read.
func OpenTUN(name string) (*os.File, error) {
	if len(name) == 0 || len(name) > 15 {
		return nil, fmt.Errorf("netem: bad TUN device name %q", name)
	}
	fd, err := syscall.Open("/dev/net/tun", syscall.O_RDWR|syscall.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("netem: open /dev/net/tun: %w", err)
	}
	var ifr [40]byte // struct ifreq: name[16], then flags
	copy(ifr[:16], name)
	*(*uint16)(unsafe.Pointer(&ifr[16])) = iffTUN | iffNoPI
	if _, _, e := syscall.Syscall(syscall.SYS_IOCTL, uintptr(fd), tunSetIFF, uintptr(unsafe.Pointer(&ifr[0]))); e != 0 {
		syscall.Close(fd)
		return nil, fmt.Errorf("netem: TUNSETIFF %s: %w", name, e)
	}
	if err := syscall.SetNonblock(fd, true); err != nil {
		syscall.Close(fd)
		return nil, fmt.Errorf("netem: %w", err)
	}
	return os.NewFile(uintptr(fd), "/dev/net/tun:"+name), nil
}

// Attach moves the device dev into the network namespace ns (a name known
// to `ip netns`), gives it the point-to-point address local with peer as
// the other end (both IPv4, e.g. 127.100.0.1 and 127.100.0.2: loopback-
// range addresses route over the link thanks to route_localnet), turns
// IPv6 off on it (no router or multicast chatter on the impaired link) and
// brings it up. It runs iproute2's ip and sysctl.
func Attach(dev, ns, local, peer string) error {
	steps := [][]string{
		{"ip", "link", "set", "dev", dev, "netns", ns},
		{"ip", "netns", "exec", ns, "sysctl", "-qw",
			"net.ipv4.conf.all.route_localnet=1",
			"net.ipv4.conf." + dev + ".route_localnet=1",
			"net.ipv6.conf." + dev + ".disable_ipv6=1"},
		{"ip", "-n", ns, "addr", "add", local, "peer", peer + "/32", "dev", dev},
		{"ip", "-n", ns, "link", "set", "dev", dev, "up"},
	}
	for _, s := range steps {
		if out, err := exec.Command(s[0], s[1:]...).CombinedOutput(); err != nil {
			return fmt.Errorf("netem: %s: %v: %s", strings.Join(s, " "), err, strings.TrimSpace(string(out)))
		}
	}
	return nil
}

// ErrNoKernelNetem is returned by KernelNetem when tc cannot add a netem
// qdisc (the kernel lacks sch_netem).
var ErrNoKernelNetem = errors.New("netem: kernel has no sch_netem")

// KernelNetem reports whether the kernel can impair links itself: it adds
// a throw-away veth pair in namespace ns, tries `tc qdisc add ... netem`
// on it and deletes the pair. It returns nil when kernel netem works,
// ErrNoKernelNetem when tc says the qdisc is unknown, or another error.
func KernelNetem(ns string) error {
	const a, b = "xpnetem-p0", "xpnetem-p1"
	if out, err := exec.Command("ip", "-n", ns, "link", "add", a, "type", "veth", "peer", "name", b).CombinedOutput(); err != nil {
		return fmt.Errorf("netem: probe veth: %v: %s", err, strings.TrimSpace(string(out)))
	}
	defer exec.Command("ip", "-n", ns, "link", "del", a).Run()
	out, err := exec.Command("ip", "netns", "exec", ns, "tc", "qdisc", "add", "dev", a, "root", "netem", "delay", "1ms").CombinedOutput()
	if err != nil {
		if strings.Contains(string(out), "unknown") || strings.Contains(string(out), "not supported") {
			return ErrNoKernelNetem
		}
		return fmt.Errorf("netem: tc netem probe: %v: %s", err, strings.TrimSpace(string(out)))
	}
	return nil
}

// TCArgs returns the arguments after `tc qdisc add dev DEV root` that
// apply im with kernel netem (uniform jitter, as Shaper does).
func TCArgs(im Impairment) []string {
	args := []string{"netem", "delay", fmt.Sprintf("%dus", im.Delay.Microseconds())}
	if im.Jitter > 0 {
		args = append(args, fmt.Sprintf("%dus", im.Jitter.Microseconds()))
	}
	if im.Loss > 0 {
		args = append(args, "loss", fmt.Sprintf("%g%%", im.Loss))
	}
	return args
}
