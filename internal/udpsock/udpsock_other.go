//go:build !linux || !(amd64 || arm64)

package udpsock

// Supported says this platform has the package: it does not.
const Supported = false
