package state

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSMSPartsCountAsOperatorsBill(t *testing.T) {
	tests := []struct {
		name string
		text string
		want int
	}{
		{"short GSM", "Your code is 245098.", 1},
		{"160 GSM in one part", strings.Repeat("a", 160), 1},
		{"161 GSM split by 153", strings.Repeat("a", 161), 2},
		{"306 GSM", strings.Repeat("a", 306), 2},
		{"307 GSM", strings.Repeat("a", 307), 3},
		{"extension characters cost two septets", strings.Repeat("€", 80), 1},
		{"81 extension characters", strings.Repeat("€", 81), 2},
		{"GSM accents stay GSM", strings.Repeat("é", 160), 1},
		{"70 UCS-2 in one part", strings.Repeat("中", 70), 1},
		{"71 UCS-2 split by 67", strings.Repeat("中", 71), 2},
		{"one non-GSM rune makes it all UCS-2", strings.Repeat("a", 70) + "ç", 2},
		{"astral runes take two UTF-16 units", strings.Repeat("🙂", 35), 1},
		{"36 astral runes", strings.Repeat("🙂", 36), 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, SMSParts(tc.text))
		})
	}
}

func TestRegionsAndPrices(t *testing.T) {
	assert.Equal(t, "CN", regionOf("8613800138000").RegionCode)
	assert.Equal(t, "CN", regionOf("008613800138000").RegionCode, "a leading 00 is the international prefix")
	assert.Equal(t, "US", regionOf("12025550100").RegionCode)
	assert.Equal(t, "RW", regionOf("250784928786").RegionCode)
	assert.Equal(t, "ZZ", regionOf("9994011").RegionCode)
	assert.Equal(t, unknownRegion, regionOf("7912345678"))

	assert.Equal(t, "0.05670", formatPrice(5670, false))
	assert.Equal(t, "0.0567", formatPrice(5670, true))
	assert.Equal(t, "0.1134", formatPrice(2*5670, true))
	assert.Equal(t, "1.2", formatPrice(120000, true))
	assert.Equal(t, "0", formatPrice(0, true))
	assert.Equal(t, "0.00000", formatPrice(0, false))
}

func TestBatchSeqIsShapedLikeTheDocs(t *testing.T) {
	now := time.Date(2025, 6, 10, 16, 52, 0, 0, time.UTC)
	assert.Equal(t, "I8393346_2506101652_35", batchSeq("IW8393346", "123456789012300035", now))
	assert.Equal(t, "I8393346_2506101652_0", batchSeq("IW8393346", "123456789012300000", now))
}

func TestFlatPayloadsRoundTripThroughEncodingJSON(t *testing.T) {
	for _, v := range []string{"", "plain", `quote " and \ backslash`, "new\nline", "ünïcödé 🙂"} {
		var e Event
		r := smsReport{Receiver: v, Pswd: v, MsgID: "1", BatchSeq: "b", UID: v, Mobile: "2", Status: "DELIVRD",
			SMSNum: "2", AccessNumber: v, region: regions["86"]}
		marshalSMSReport(&e, &r)
		var sms map[string]any
		require.NoError(t, json.Unmarshal(e.Payload, &sms), "%s", e.Payload)
		assert.Len(t, sms, 20, "every documented member, always present")
		for k, val := range sms {
			assert.IsType(t, "", val, "member %s must be a string", k)
		}
		assert.Equal(t, v, sms["receiver"])
		assert.Equal(t, "0.1134", sms["fee"])

		marshalOTPReport(&e, otpReport{AppKey: "k", Status: "1", Code: "failed", ErrCode: "7", ErrMessage: v})
		var otp map[string]any
		require.NoError(t, json.Unmarshal(e.Payload, &otp), "%s", e.Payload)
		if v == "" {
			assert.Nil(t, otp["errMessage"], "an empty text is written as null")
		} else {
			assert.Equal(t, v, otp["errMessage"])
		}
		marshalOTPReport(&e, otpReport{Status: "2", Code: "success"})
		require.NoError(t, json.Unmarshal(e.Payload, &otp))
		assert.Contains(t, otp, "errCode")
		assert.Nil(t, otp["errCode"])
	}
}

func TestFailureCodes(t *testing.T) {
	for code, want := range map[string]string{"": "UNDELIV", "1": "UNDELIV", "2": "EXPIRED", "3": "REJECTD",
		"4": "UNKNOWN", "5": "DELETED", "6": "UNDELIV", "0": "UNDELIV", "21": "EXPIRED", "5999": "DELETED"} {
		assert.Equal(t, want, smsFailureStatus(code), "code %q", code)
	}
	_, text, ok := failureRow("3")
	assert.True(t, ok)
	assert.Contains(t, text, "rejected")
	for _, code := range []string{"", "0", "6", "12", "x"} {
		_, _, ok := failureRow(code)
		assert.False(t, ok, "code %q", code)
	}
}
