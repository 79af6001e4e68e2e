package sipmsg

// hdrID identifies a header the package knows by name. Zero is "other".
type hdrID uint8

const (
	hOther hdrID = iota
	hVia
	hFrom
	hTo
	hCallID
	hCSeq
	hContact
	hMaxForwards
	hContentLength
	hContentType
	hRoute
	hRecordRoute
	hExpires
	hMinExpires
	hWWWAuthenticate
	hProxyAuthenticate
	hAuthorization
	hProxyAuthorization
	hAuthenticationInfo
	hRequire
	hProxyRequire
	hSupported
	hUnsupported
	hAllow
	hSessionExpires
	hMinSE
	hReferTo
	hReferredBy
	hReplaces
	hEvent
	hSubscriptionState
	hAllowEvents
	hRAck
	hRSeq
	hContentEncoding
	hSubject
	hIdentity
	hIdentityInfo
	hAcceptContact
	hRejectContact
	hRequestDisposition
	hAccept
	hAcceptEncoding
	hAcceptLanguage
	hAlertInfo
	hCallInfo
	hErrorInfo
	hWarning
	hPath
	hServiceRoute
	hInReplyTo
	hPAssertedIdentity
	hPPreferredIdentity
	hHistoryInfo
	hReason
	hDate
	hUserAgent
	hServer
	hTimestamp
	hContentDisposition
	hRetryAfter
	numHdr
)

type hdrInfo struct {
	name    string // canonical spelling
	compact byte   // RFC 3261 §7.3.3 / IANA compact form, 0 if none
	list    bool   // value is a comma-separated list (RFC 3261 §7.3.1)
}

var hdrTable = [numHdr]hdrInfo{
	hVia:                {"Via", 'v', true},
	hFrom:               {"From", 'f', false},
	hTo:                 {"To", 't', false},
	hCallID:             {"Call-ID", 'i', false},
	hCSeq:               {"CSeq", 0, false},
	hContact:            {"Contact", 'm', true},
	hMaxForwards:        {"Max-Forwards", 0, false},
	hContentLength:      {"Content-Length", 'l', false},
	hContentType:        {"Content-Type", 'c', false},
	hRoute:              {"Route", 0, true},
	hRecordRoute:        {"Record-Route", 0, true},
	hExpires:            {"Expires", 0, false},
	hMinExpires:         {"Min-Expires", 0, false},
	hWWWAuthenticate:    {"WWW-Authenticate", 0, false},
	hProxyAuthenticate:  {"Proxy-Authenticate", 0, false},
	hAuthorization:      {"Authorization", 0, false},
	hProxyAuthorization: {"Proxy-Authorization", 0, false},
	hAuthenticationInfo: {"Authentication-Info", 0, false},
	hRequire:            {"Require", 0, true},
	hProxyRequire:       {"Proxy-Require", 0, true},
	hSupported:          {"Supported", 'k', true},
	hUnsupported:        {"Unsupported", 0, true},
	hAllow:              {"Allow", 0, true},
	hSessionExpires:     {"Session-Expires", 'x', false},
	hMinSE:              {"Min-SE", 0, false},
	hReferTo:            {"Refer-To", 'r', false},
	hReferredBy:         {"Referred-By", 'b', false},
	hReplaces:           {"Replaces", 0, false},
	hEvent:              {"Event", 'o', false},
	hSubscriptionState:  {"Subscription-State", 0, false},
	hAllowEvents:        {"Allow-Events", 'u', true},
	hRAck:               {"RAck", 0, false},
	hRSeq:               {"RSeq", 0, false},
	hContentEncoding:    {"Content-Encoding", 'e', true},
	hSubject:            {"Subject", 's', false},
	hIdentity:           {"Identity", 'y', false},
	hIdentityInfo:       {"Identity-Info", 'n', false},
	hAcceptContact:      {"Accept-Contact", 'a', true},
	hRejectContact:      {"Reject-Contact", 'j', true},
	hRequestDisposition: {"Request-Disposition", 'd', true},
	hAccept:             {"Accept", 0, true},
	hAcceptEncoding:     {"Accept-Encoding", 0, true},
	hAcceptLanguage:     {"Accept-Language", 0, true},
	hAlertInfo:          {"Alert-Info", 0, true},
	hCallInfo:           {"Call-Info", 0, true},
	hErrorInfo:          {"Error-Info", 0, true},
	hWarning:            {"Warning", 0, true},
	hPath:               {"Path", 0, true},
	hServiceRoute:       {"Service-Route", 0, true},
	hInReplyTo:          {"In-Reply-To", 0, true},
	hPAssertedIdentity:  {"P-Asserted-Identity", 0, true},
	hPPreferredIdentity: {"P-Preferred-Identity", 0, true},
	hHistoryInfo:        {"History-Info", 0, true},
	hReason:             {"Reason", 0, true},
	hDate:               {"Date", 0, false},
	hUserAgent:          {"User-Agent", 0, false},
	hServer:             {"Server", 0, false},
	hTimestamp:          {"Timestamp", 0, false},
	hContentDisposition: {"Content-Disposition", 0, false},
	hRetryAfter:         {"Retry-After", 0, false},
}

// compactIDs maps a lower-case compact letter to its header.
var compactIDs [26]hdrID

// hashIDs maps hdrHash of a canonical name to its header; the table is
// collision-free (checked in init) so one comparison confirms a match.
var hashIDs [256]hdrID

// hdrHash mixes the length and the first and last letters (folded).
func hdrHash[T string | []byte](name T) uint8 {
	return uint8(len(name)*13 + int(lower(name[0])) + int(lower(name[len(name)-1]))*8)
}

func init() {
	for id := hdrID(1); id < numHdr; id++ {
		info := hdrTable[id]
		if info.compact != 0 {
			compactIDs[info.compact-'a'] = id
		}
		h := hdrHash(info.name)
		if hashIDs[h] != hOther {
			panic("sipmsg: header hash collision: " + info.name + " and " + hdrTable[hashIDs[h]].name)
		}
		hashIDs[h] = id
	}
}

// lookupHeader returns the id of a header name (case-insensitive, compact
// forms included), or hOther.
func lookupHeader[T string | []byte](name T) hdrID {
	if len(name) == 1 {
		c := lower(name[0])
		if c >= 'a' && c <= 'z' {
			return compactIDs[c-'a']
		}
		return hOther
	}
	if len(name) == 0 {
		return hOther
	}
	if id := hashIDs[hdrHash(name)]; id != hOther && equalFold(hdrTable[id].name, name) {
		return id
	}
	return hOther
}

// CanonicalName returns the canonical spelling of a header name: compact
// forms are expanded ("v" → "Via") and known names get their RFC spelling
// ("call-id" → "Call-ID"). Unknown names are returned unchanged.
func CanonicalName(name string) string {
	if id := lookupHeader(name); id != hOther {
		return hdrTable[id].name
	}
	return name
}

func lower(c byte) byte {
	if c >= 'A' && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// equalFold reports whether a and b are equal under ASCII case folding.
func equalFold[T string | []byte](a string, b T) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		if a[i] != b[i] && lower(a[i]) != lower(b[i]) {
			return false
		}
	}
	return true
}
