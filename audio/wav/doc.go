// Package wav reads and writes RIFF/WAVE files of 16-bit linear PCM, the
// format phones record and play: mono at 8 kHz (G.711) or 16 kHz (G.722).
//
// A Reader parses the header of a WAVE file and then streams its samples,
// as int16 values (ReadSamples) or as an io.Reader of 16-bit little-endian
// mono PCM (Read). A Writer writes the header and streams samples after it
// (WriteSamples, or Write as an io.Writer of 16-bit little-endian PCM), and
// Close fixes the sizes in the header. ReadAll reads a whole file and
// converts it to the sample rate the caller works at; Resample does the
// conversion alone.
//
// # What is accepted
//
// The fmt chunk must describe 16-bit integer PCM: format tag 1
// (WAVE_FORMAT_PCM) or 0xFFFE (WAVE_FORMAT_EXTENSIBLE) whose subformat GUID
// is KSDATAFORMAT_SUBTYPE_PCM, 1 to MaxChannels channels, MinSampleRate to
// MaxSampleRate Hz. Anything else (8-, 24- or 32-bit PCM, IEEE float,
// µ-law, A-law, ADPCM, MP3, RF64) is refused with an error that wraps
// ErrUnsupportedFormat and says what was found, so a program can tell the
// user to convert the file (for example with
// "sox in.wav -b 16 -c 1 -r 8000 out.wav"). A file that is not a WAVE file
// at all, or whose header is cut short or inconsistent, gives an error
// wrapping ErrMalformed.
//
// Chunks other than "fmt " and "data" (LIST, fact, cue, bext...) are
// skipped without being buffered, with the pad byte that follows a chunk
// of odd size. Only the fmt chunk is held in memory and it may be at most
// 1 KiB, so a hostile header cannot make the Reader allocate: a Reader uses
// a fixed 4 KiB buffer whatever the input. Reading stops at the end of the
// data chunk; what follows it is not read.
//
// A data chunk whose size field is 0 or 0xFFFFFFFF is read to the end of
// the input: that is what recorders write before they know the length (a
// Writer on a stream that cannot seek does the same). When the input ends
// before the declared size, or in the middle of a sample frame, the whole
// frames are returned and then io.ErrUnexpectedEOF, so a caller can keep
// what a recorder wrote before it stopped.
//
// # Channels
//
// ReadSamples and Read deliver mono: a file of several channels is mixed
// down by averaging the channels of each frame (rounding toward zero).
// ReadInterleaved gives the channels as stored.
//
// # Resampling
//
// Resample (and ReadAll) convert between any two rates from MinSampleRate to
// MaxSampleRate with a band-limited interpolator: a Blackman-windowed sinc
// of 32 zero crossings on each side, its cutoff at 92% of the lower of the
// two Nyquist frequencies. From 16 to 8 kHz the response is flat within
// 0.01 dB up to 3400 Hz (the telephone band), -0.4 dB at 3500 Hz and -7 dB
// at 3700 Hz, and whatever would alias (4 kHz and above) is attenuated by
// 80 dB or more, down to the 16-bit noise floor; from 8 to 16 kHz the
// images are as far down. Linear interpolation, by comparison, leaves
// aliases and images tens of dB louder. Resample works on whole buffers
// (the signal is taken as silent outside them) and costs about 140
// multiply-adds per output sample from 16 to 8 kHz.
//
// # Concurrency
//
// A Reader or a Writer is not safe for concurrent use; use one per
// goroutine. The package-level functions are safe for concurrent use.
package wav
