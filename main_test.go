package xphone

import (
	"testing"

	"github.com/xphone-go/xphone/internal/leakcheck"
)

// The PCM adapter tests run phonetest mocks, which start goroutines.
func TestMain(m *testing.M) { leakcheck.Main(m) }
