package xphone

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestNewDialOptions(t *testing.T) {
	tests := []struct {
		name    string
		opts    []DialOption
		want    DialOptions
		wantErr string
	}{
		{"none", nil, DialOptions{}, ""},
		{"all", []DialOption{
			WithEarlyMedia(), WithTimeout(30 * time.Second), WithHeader("X-Account", "42"),
			WithHeader("X-Account", "43"), WithCodecs(CodecG722), WithSRTP(SRTPOptional),
			WithCallerID("+15550100", "Sales"), nil,
		}, DialOptions{EarlyMedia: true, Timeout: 30 * time.Second,
			Headers: []Header{{"X-Account", "42"}, {"X-Account", "43"}}, Codecs: []Codec{CodecG722},
			SRTP: SRTPOptional, CallerID: "+15550100", DisplayName: "Sales"}, ""},
		{"managed header", []DialOption{WithHeader("call-id", "x")}, DialOptions{}, "set by the stack"},
		{"compact managed header", []DialOption{WithHeader("v", "x")}, DialOptions{}, "set by the stack"},
		{"bad name", []DialOption{WithHeader("X Y", "x")}, DialOptions{}, "bad header name"},
		{"injection", []DialOption{WithHeader("X-A", "1\r\nVia: evil")}, DialOptions{}, "line break"},
		{"timeout", []DialOption{WithTimeout(-1)}, DialOptions{}, "negative timeout"},
		{"codec", []DialOption{WithCodecs("G729")}, DialOptions{}, "unknown codec"},
		{"codec twice", []DialOption{WithCodecs(CodecPCMU, CodecPCMU)}, DialOptions{}, "listed twice"},
		{"srtp", []DialOption{WithSRTP(7)}, DialOptions{}, "SRTP mode"},
		{"caller id", []DialOption{WithCallerID("a@b", "")}, DialOptions{}, "caller ID"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := NewDialOptions(tt.opts...)
			if tt.wantErr != "" {
				if !errors.Is(err, ErrInvalidConfig) || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("got %v, want an ErrInvalidConfig containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %+v, %v, want %+v", got, err, tt.want)
			}
		})
	}
}

func TestWithCodecsCopies(t *testing.T) {
	codecs := []Codec{CodecPCMU}
	o, _ := NewDialOptions(WithCodecs(codecs...))
	codecs[0] = CodecPCMA
	if o.Codecs[0] != CodecPCMU {
		t.Errorf("got %v, want PCMU", o.Codecs[0])
	}
}
