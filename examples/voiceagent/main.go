// Voiceagent is the skeleton of an AI voice agent: it answers calls, greets
// the caller, streams the caller's 20 ms PCM frames to a Transcriber and
// speaks each reply back through PacedPCMWriter, which takes a whole
// utterance at once and paces it itself. When the caller talks over a
// reply, the agent stops speaking at once (Call.ClearOutput: "barge-in").
// The Transcriber and Speaker here
// are stubs (an energy detector and a tone synthesizer, or a WAV file):
// put a speech-to-text stream, a language model and a text-to-speech
// engine in their place.
//
//	go run ./examples/voiceagent --server pbx.example.com --user 1001 --pass secret
//	go run ./examples/voiceagent --listen 127.0.0.1:5070 --reply reply.wav
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"math"
	"net"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"time"

	"github.com/xphone-go/xphone"
	"github.com/xphone-go/xphone/audio/wav"
)

func main() {
	server := flag.String("server", "", "SIP server (registrar) as host[:port]")
	user := flag.String("user", "", "SIP user name")
	pass := flag.String("pass", "", "SIP password")
	listen := flag.String("listen", "", "local SIP address host:port; without --server, take INVITEs directly")
	reply := flag.String("reply", "", "WAV file spoken as every reply (default: synthesized beeps)")
	flag.Parse()
	cfg := xphone.Config{Username: *user, Password: *pass, Host: *server, ListenAddr: *listen, PCMRate: 16000}
	if host, port, err := net.SplitHostPort(*server); err == nil {
		cfg.Host = host
		cfg.Port, _ = strconv.Atoi(port)
	}
	if *server == "" {
		cfg.RegisterExpiry = -1 // take INVITEs directly
	}
	agent := &Agent{Rate: 16000, Speaker: ToneSpeaker{Rate: 16000, Word: 120 * time.Millisecond}, Turns: 10,
		NewTranscriber: func() Transcriber { return &EnergyTranscriber{Threshold: 500, Hangover: 25} },
		OnTranscript:   func(id, text string) { log.Printf("voiceagent: %s: caller: %s", id, text) },
		OnBargeIn:      func(id string, cut time.Duration) { log.Printf("voiceagent: %s: interrupted, %v unsaid", id, cut) }}
	if *reply != "" {
		f, err := os.Open(*reply)
		if err != nil {
			log.Fatal(err)
		}
		samples, err := wav.ReadAll(f, 16000)
		f.Close()
		if err != nil {
			log.Fatal(err)
		}
		agent.Speaker = fixedSpeaker(samples)
	}
	phone, err := xphone.New(cfg)
	if err != nil {
		log.Fatal(err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	phone.OnIncoming(func(call xphone.Call) {
		go func() { log.Printf("voiceagent: %s: %v", call.ID(), agent.Handle(ctx, call)) }()
	})
	if err := phone.Connect(ctx); err != nil {
		log.Fatal(err)
	}
	<-ctx.Done()
	phone.Disconnect(context.Background())
}

// Transcriber turns the caller's audio into text, one utterance at a time.
type Transcriber interface {
	// Feed takes the next 20 ms frame; when it ends an utterance, it
	// returns the utterance's text and true.
	Feed(frame []int16) (text string, ok bool)
}

// SpeechDetector is what a Transcriber may also tell: whether the frame
// it was last fed is speech. With one, the agent stops its own speech
// when the caller starts talking over it.
type SpeechDetector interface {
	Speaking() bool
}

// Speaker turns text into audio at the call's sample rate.
type Speaker interface {
	Speak(text string) []int16
}

// EnergyTranscriber is a stub Transcriber: it detects speech by frame
// energy and "transcribes" each utterance as its length. An utterance ends
// after Hangover quiet frames.
type EnergyTranscriber struct {
	Threshold float64 // RMS above which a frame is speech
	Hangover  int     // quiet frames that end an utterance

	speech, quiet int
}

// Feed implements Transcriber.
func (t *EnergyTranscriber) Feed(frame []int16) (string, bool) {
	var sum float64
	for _, s := range frame {
		sum += float64(s) * float64(s)
	}
	if len(frame) > 0 && math.Sqrt(sum/float64(len(frame))) > t.Threshold {
		t.speech++
		t.quiet = 0
		return "", false
	}
	if t.speech == 0 {
		return "", false
	}
	if t.quiet++; t.quiet < t.Hangover {
		return "", false
	}
	text := fmt.Sprintf("(speech, %d ms)", t.speech*20)
	t.speech, t.quiet = 0, 0
	return text, true
}

// Speaking implements SpeechDetector: the last frame fed was speech.
func (t *EnergyTranscriber) Speaking() bool { return t.speech > 0 && t.quiet == 0 }

// ToneSpeaker is a stub Speaker: one beep per word, its pitch from the
// word's length, with a short gap after each.
type ToneSpeaker struct {
	Rate int
	Word time.Duration
}

// Speak implements Speaker.
func (s ToneSpeaker) Speak(text string) []int16 {
	n := int(s.Word.Seconds() * float64(s.Rate))
	var out []int16
	for _, w := range strings.Fields(text) {
		freq := 300 + 60*float64(len(w)%10)
		for i := range n {
			out = append(out, int16(6000*math.Sin(2*math.Pi*freq*float64(i)/float64(s.Rate))))
		}
		out = append(out, make([]int16, n/2)...)
	}
	return out
}

type fixedSpeaker []int16

func (f fixedSpeaker) Speak(string) []int16 { return f }

// Agent answers calls and converses: greeting, then one reply per utterance.
type Agent struct {
	Rate           int                // sample rate of the call's frames (Config.PCMRate)
	NewTranscriber func() Transcriber // one per call
	Speaker        Speaker
	Turns          int // hang up after this many replies; 0: never
	// OnTranscript, if set, sees each utterance heard, with the call's ID.
	OnTranscript func(callID, text string)
	// OnBargeIn, if set, is told when the caller talked over the agent,
	// with how much of its speech was cut (Call.ClearOutput).
	OnBargeIn func(callID string, cut time.Duration)
}

// Handle answers call and converses until the caller hangs up or Turns
// replies were spoken. It blocks for the whole call: run it on its own
// goroutine. The error is nil when the agent hung up, else why the call
// ended.
func (a *Agent) Handle(ctx context.Context, call xphone.Call) error {
	if err := call.Accept(ctx); err != nil {
		return err
	}
	var heard time.Time // when everything spoken so far will have played
	say := func(text string) error {
		samples := a.Speaker.Speak(text)
		select {
		case call.PacedPCMWriter() <- samples: // paced by the call: returns at once
		case <-call.Context().Done():
			return context.Cause(call.Context())
		}
		if now := time.Now(); heard.Before(now) {
			heard = now
		}
		heard = heard.Add(time.Duration(len(samples)) * time.Second / time.Duration(a.Rate))
		return nil
	}
	if err := say("hello, how can I help"); err != nil {
		return err
	}
	tr, turns := a.NewTranscriber(), 0
	sd, _ := tr.(SpeechDetector)
	for frame := range call.PCMReader() {
		text, ok := tr.Feed(frame)
		if sd != nil && sd.Speaking() && time.Now().Before(heard) {
			// The caller talks over us: stop, and listen.
			cut := call.ClearOutput()
			heard = time.Now()
			if a.OnBargeIn != nil {
				a.OnBargeIn(call.ID(), cut)
			}
		}
		if !ok {
			continue
		}
		if a.OnTranscript != nil {
			a.OnTranscript(call.ID(), text)
		}
		if err := say("you said " + text); err != nil {
			return err
		}
		if turns++; a.Turns > 0 && turns >= a.Turns {
			select { // let the last reply play out, then hang up
			case <-time.After(time.Until(heard)):
				return call.End(ctx)
			case <-call.Context().Done():
			}
		}
	}
	return context.Cause(call.Context())
}
