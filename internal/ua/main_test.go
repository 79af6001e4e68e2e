package ua

import (
	"testing"

	"github.com/xphone-go/xphone/internal/leakcheck"
)

func TestMain(m *testing.M) { leakcheck.Main(m) }
