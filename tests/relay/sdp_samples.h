/* Sample SDPs in the shape real browsers produce them, for the SDP parser and writer tests.
 * Identifiers (ufrag, pwd, fingerprints, SSRCs, msids) are made up; the structure, attribute
 * order and codec lists follow Chromium 120 and Firefox 120 output. */
#ifndef SB_TEST_SDP_SAMPLES_H
#define SB_TEST_SDP_SAMPLES_H

#include <stdio.h>
#include <string.h>

/* Chromium 120 offer with max-bundle: microphone (sendonly), camera with three simulcast rids,
 * and a screen share without simulcast (SSRC + RTX FID group). Gathering completed, so m-line 0
 * carries candidates (one TCP, which a UDP relay ignores). The video m-lines list 25 payload
 * types, more than SB_SDP_MAX_CODECS. */
#define SDP_CHROME_OFFER                                                                           \
  "v=0\r\n"                                                                                        \
  "o=- 4215775240449105457 2 IN IP4 127.0.0.1\r\n"                                                 \
  "s=-\r\n"                                                                                        \
  "t=0 0\r\n"                                                                                      \
  "a=group:BUNDLE 0 1 2\r\n"                                                                       \
  "a=extmap-allow-mixed\r\n"                                                                       \
  "a=msid-semantic: WMS 5c1d9a2e-4f6b-4c1e-9b8a-2f0d6e7c3a11\r\n"                                  \
  "m=audio 9 UDP/TLS/RTP/SAVPF 111 63 9 0 8 13 110 126\r\n"                                        \
  "c=IN IP4 0.0.0.0\r\n"                                                                           \
  "a=rtcp:9 IN IP4 0.0.0.0\r\n"                                                                    \
  "a=candidate:3442447574 1 udp 2122260223 192.0.2.10 54400 typ host generation 0 network-id 1 "   \
  "network-cost 10\r\n"                                                                            \
  "a=candidate:2494240406 1 udp 1686052607 203.0.113.7 61003 typ srflx raddr 192.0.2.10 rport "    \
  "54400 generation 0 network-id 1 network-cost 10\r\n"                                            \
  "a=candidate:2176496702 1 tcp 1518280447 192.0.2.10 9 typ host tcptype active generation 0 "     \
  "network-id 1 network-cost 10\r\n"                                                               \
  "a=ice-ufrag:Xq3B\r\n"                                                                           \
  "a=ice-pwd:u6mJ1xV3sW9tQ2bN8yR4pK7d\r\n"                                                         \
  "a=ice-options:trickle\r\n"                                                                      \
  "a=fingerprint:sha-256 "                                                                         \
  "7B:8B:F0:65:5F:78:E2:51:3B:AC:6F:F3:3F:46:1B:35:DC:B8:5F:64:1A:24:C2:43:F0:A1:58:D0:A1:2C:19:"  \
  "08\r\n"                                                                                         \
  "a=setup:actpass\r\n"                                                                            \
  "a=mid:0\r\n"                                                                                    \
  "a=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level\r\n"                                     \
  "a=extmap:2 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time\r\n"                      \
  "a=extmap:3 http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01\r\n"       \
  "a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid\r\n"                                             \
  "a=sendonly\r\n"                                                                                 \
  "a=msid:5c1d9a2e-4f6b-4c1e-9b8a-2f0d6e7c3a11 0e3b8f4c-91d2-4a6e-8c57-3d9f1b2a6e40\r\n"           \
  "a=rtcp-mux\r\n"                                                                                 \
  "a=rtpmap:111 opus/48000/2\r\n"                                                                  \
  "a=rtcp-fb:111 transport-cc\r\n"                                                                 \
  "a=fmtp:111 minptime=10;useinbandfec=1\r\n"                                                      \
  "a=rtpmap:63 red/48000/2\r\n"                                                                    \
  "a=fmtp:63 111/111\r\n"                                                                          \
  "a=rtpmap:9 G722/8000\r\n"                                                                       \
  "a=rtpmap:0 PCMU/8000\r\n"                                                                       \
  "a=rtpmap:8 PCMA/8000\r\n"                                                                       \
  "a=rtpmap:13 CN/8000\r\n"                                                                        \
  "a=rtpmap:110 telephone-event/48000\r\n"                                                         \
  "a=rtpmap:126 telephone-event/8000\r\n"                                                          \
  "a=ssrc:2718281828 cname:k4Jb8QzYv2Lw9XcT\r\n"                                                   \
  "a=ssrc:2718281828 msid:5c1d9a2e-4f6b-4c1e-9b8a-2f0d6e7c3a11 "                                   \
  "0e3b8f4c-91d2-4a6e-8c57-3d9f1b2a6e40\r\n"                                                       \
  SDP_CHROME_VIDEO_HEAD("1")                                                                       \
  "a=sendonly\r\n"                                                                                 \
  "a=msid:5c1d9a2e-4f6b-4c1e-9b8a-2f0d6e7c3a11 7a6c2d1e-0b9f-4e3a-a5d8-6c4b2f1e9d07\r\n"           \
  SDP_CHROME_VIDEO_CODECS                                                                          \
  "a=rid:q send\r\n"                                                                               \
  "a=rid:h send\r\n"                                                                               \
  "a=rid:f send\r\n"                                                                               \
  "a=simulcast:send q;h;f\r\n"                                                                     \
  SDP_CHROME_VIDEO_HEAD("2")                                                                       \
  "a=sendonly\r\n"                                                                                 \
  "a=msid:5c1d9a2e-4f6b-4c1e-9b8a-2f0d6e7c3a11 c9e1f3a5-2b4d-4c6e-8f0a-1b3d5f7a9c2e\r\n"           \
  SDP_CHROME_VIDEO_CODECS                                                                          \
  "a=ssrc-group:FID 1414213562 1732050807\r\n"                                                     \
  "a=ssrc:1414213562 cname:k4Jb8QzYv2Lw9XcT\r\n"                                                   \
  "a=ssrc:1414213562 msid:5c1d9a2e-4f6b-4c1e-9b8a-2f0d6e7c3a11 "                                   \
  "c9e1f3a5-2b4d-4c6e-8f0a-1b3d5f7a9c2e\r\n"                                                       \
  "a=ssrc:1732050807 cname:k4Jb8QzYv2Lw9XcT\r\n"                                                   \
  "a=ssrc:1732050807 msid:5c1d9a2e-4f6b-4c1e-9b8a-2f0d6e7c3a11 "                                   \
  "c9e1f3a5-2b4d-4c6e-8f0a-1b3d5f7a9c2e\r\n"

#define SDP_CHROME_VIDEO_HEAD(mid)                                                                 \
  "m=video 9 UDP/TLS/RTP/SAVPF 96 97 102 103 104 105 106 107 108 109 127 125 39 40 45 46 98 99 "   \
  "100 101 112 113 116 117 118\r\n"                                                                \
  "c=IN IP4 0.0.0.0\r\n"                                                                           \
  "a=rtcp:9 IN IP4 0.0.0.0\r\n"                                                                    \
  "a=ice-ufrag:Xq3B\r\n"                                                                           \
  "a=ice-pwd:u6mJ1xV3sW9tQ2bN8yR4pK7d\r\n"                                                         \
  "a=ice-options:trickle\r\n"                                                                      \
  "a=fingerprint:sha-256 "                                                                         \
  "7B:8B:F0:65:5F:78:E2:51:3B:AC:6F:F3:3F:46:1B:35:DC:B8:5F:64:1A:24:C2:43:F0:A1:58:D0:A1:2C:19:"  \
  "08\r\n"                                                                                         \
  "a=setup:actpass\r\n"                                                                            \
  "a=mid:" mid "\r\n"                                                                              \
  "a=extmap:14 urn:ietf:params:rtp-hdrext:toffset\r\n"                                             \
  "a=extmap:2 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time\r\n"                      \
  "a=extmap:13 urn:3gpp:video-orientation\r\n"                                                     \
  "a=extmap:3 http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01\r\n"       \
  "a=extmap:5 http://www.webrtc.org/experiments/rtp-hdrext/playout-delay\r\n"                      \
  "a=extmap:6 http://www.webrtc.org/experiments/rtp-hdrext/video-content-type\r\n"                 \
  "a=extmap:7 http://www.webrtc.org/experiments/rtp-hdrext/video-timing\r\n"                       \
  "a=extmap:8 http://www.webrtc.org/experiments/rtp-hdrext/color-space\r\n"                        \
  "a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid\r\n"                                             \
  "a=extmap:10 urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id\r\n"                                  \
  "a=extmap:11 urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id\r\n"

#define SDP_CHROME_VIDEO_CODECS                                                                    \
  "a=rtcp-mux\r\n"                                                                                 \
  "a=rtcp-rsize\r\n"                                                                               \
  "a=rtpmap:96 VP8/90000\r\n"                                                                      \
  "a=rtcp-fb:96 goog-remb\r\n"                                                                     \
  "a=rtcp-fb:96 transport-cc\r\n"                                                                  \
  "a=rtcp-fb:96 ccm fir\r\n"                                                                       \
  "a=rtcp-fb:96 nack\r\n"                                                                          \
  "a=rtcp-fb:96 nack pli\r\n"                                                                      \
  "a=rtpmap:97 rtx/90000\r\n"                                                                      \
  "a=fmtp:97 apt=96\r\n"                                                                           \
  "a=rtpmap:102 H264/90000\r\n"                                                                    \
  "a=rtcp-fb:102 goog-remb\r\n"                                                                    \
  "a=rtcp-fb:102 transport-cc\r\n"                                                                 \
  "a=rtcp-fb:102 ccm fir\r\n"                                                                      \
  "a=rtcp-fb:102 nack\r\n"                                                                         \
  "a=rtcp-fb:102 nack pli\r\n"                                                                     \
  "a=fmtp:102 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42001f\r\n"          \
  "a=rtpmap:103 rtx/90000\r\n"                                                                     \
  "a=fmtp:103 apt=102\r\n"                                                                         \
  "a=rtpmap:104 H264/90000\r\n"                                                                    \
  "a=rtcp-fb:104 goog-remb\r\n"                                                                    \
  "a=rtcp-fb:104 transport-cc\r\n"                                                                 \
  "a=rtcp-fb:104 ccm fir\r\n"                                                                      \
  "a=rtcp-fb:104 nack\r\n"                                                                         \
  "a=rtcp-fb:104 nack pli\r\n"                                                                     \
  "a=fmtp:104 level-asymmetry-allowed=1;packetization-mode=0;profile-level-id=42001f\r\n"          \
  "a=rtpmap:105 rtx/90000\r\n"                                                                     \
  "a=fmtp:105 apt=104\r\n"                                                                         \
  "a=rtpmap:106 H264/90000\r\n"                                                                    \
  "a=rtcp-fb:106 goog-remb\r\n"                                                                    \
  "a=rtcp-fb:106 transport-cc\r\n"                                                                 \
  "a=rtcp-fb:106 ccm fir\r\n"                                                                      \
  "a=rtcp-fb:106 nack\r\n"                                                                         \
  "a=rtcp-fb:106 nack pli\r\n"                                                                     \
  "a=fmtp:106 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f\r\n"          \
  "a=rtpmap:107 rtx/90000\r\n"                                                                     \
  "a=fmtp:107 apt=106\r\n"                                                                         \
  "a=rtpmap:108 H264/90000\r\n"                                                                    \
  "a=rtcp-fb:108 goog-remb\r\n"                                                                    \
  "a=rtcp-fb:108 transport-cc\r\n"                                                                 \
  "a=rtcp-fb:108 ccm fir\r\n"                                                                      \
  "a=rtcp-fb:108 nack\r\n"                                                                         \
  "a=rtcp-fb:108 nack pli\r\n"                                                                     \
  "a=fmtp:108 level-asymmetry-allowed=1;packetization-mode=0;profile-level-id=42e01f\r\n"          \
  "a=rtpmap:109 rtx/90000\r\n"                                                                     \
  "a=fmtp:109 apt=108\r\n"                                                                         \
  "a=rtpmap:127 H264/90000\r\n"                                                                    \
  "a=rtcp-fb:127 goog-remb\r\n"                                                                    \
  "a=rtcp-fb:127 transport-cc\r\n"                                                                 \
  "a=rtcp-fb:127 ccm fir\r\n"                                                                      \
  "a=rtcp-fb:127 nack\r\n"                                                                         \
  "a=rtcp-fb:127 nack pli\r\n"                                                                     \
  "a=fmtp:127 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=4d001f\r\n"          \
  "a=rtpmap:125 rtx/90000\r\n"                                                                     \
  "a=fmtp:125 apt=127\r\n"                                                                         \
  "a=rtpmap:39 H264/90000\r\n"                                                                     \
  "a=rtcp-fb:39 goog-remb\r\n"                                                                     \
  "a=rtcp-fb:39 transport-cc\r\n"                                                                  \
  "a=rtcp-fb:39 ccm fir\r\n"                                                                       \
  "a=rtcp-fb:39 nack\r\n"                                                                          \
  "a=rtcp-fb:39 nack pli\r\n"                                                                      \
  "a=fmtp:39 level-asymmetry-allowed=1;packetization-mode=0;profile-level-id=4d001f\r\n"           \
  "a=rtpmap:40 rtx/90000\r\n"                                                                      \
  "a=fmtp:40 apt=39\r\n"                                                                           \
  "a=rtpmap:45 AV1/90000\r\n"                                                                      \
  "a=rtcp-fb:45 goog-remb\r\n"                                                                     \
  "a=rtcp-fb:45 transport-cc\r\n"                                                                  \
  "a=rtcp-fb:45 ccm fir\r\n"                                                                       \
  "a=rtcp-fb:45 nack\r\n"                                                                          \
  "a=rtcp-fb:45 nack pli\r\n"                                                                      \
  "a=fmtp:45 level-idx=5;profile=0;tier=0\r\n"                                                     \
  "a=rtpmap:46 rtx/90000\r\n"                                                                      \
  "a=fmtp:46 apt=45\r\n"                                                                           \
  "a=rtpmap:98 VP9/90000\r\n"                                                                      \
  "a=rtcp-fb:98 goog-remb\r\n"                                                                     \
  "a=rtcp-fb:98 transport-cc\r\n"                                                                  \
  "a=rtcp-fb:98 ccm fir\r\n"                                                                       \
  "a=rtcp-fb:98 nack\r\n"                                                                          \
  "a=rtcp-fb:98 nack pli\r\n"                                                                      \
  "a=fmtp:98 profile-id=0\r\n"                                                                     \
  "a=rtpmap:99 rtx/90000\r\n"                                                                      \
  "a=fmtp:99 apt=98\r\n"                                                                           \
  "a=rtpmap:100 VP9/90000\r\n"                                                                     \
  "a=rtcp-fb:100 goog-remb\r\n"                                                                    \
  "a=rtcp-fb:100 transport-cc\r\n"                                                                 \
  "a=rtcp-fb:100 ccm fir\r\n"                                                                      \
  "a=rtcp-fb:100 nack\r\n"                                                                         \
  "a=rtcp-fb:100 nack pli\r\n"                                                                     \
  "a=fmtp:100 profile-id=2\r\n"                                                                    \
  "a=rtpmap:101 rtx/90000\r\n"                                                                     \
  "a=fmtp:101 apt=100\r\n"                                                                         \
  "a=rtpmap:112 H264/90000\r\n"                                                                    \
  "a=rtcp-fb:112 goog-remb\r\n"                                                                    \
  "a=rtcp-fb:112 transport-cc\r\n"                                                                 \
  "a=rtcp-fb:112 ccm fir\r\n"                                                                      \
  "a=rtcp-fb:112 nack\r\n"                                                                         \
  "a=rtcp-fb:112 nack pli\r\n"                                                                     \
  "a=fmtp:112 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=64001f\r\n"          \
  "a=rtpmap:113 rtx/90000\r\n"                                                                     \
  "a=fmtp:113 apt=112\r\n"                                                                         \
  "a=rtpmap:116 red/90000\r\n"                                                                     \
  "a=rtpmap:117 rtx/90000\r\n"                                                                     \
  "a=fmtp:117 apt=116\r\n"                                                                         \
  "a=rtpmap:118 ulpfec/90000\r\n"

/* Firefox 120 offer: session-level fingerprint, media-level ICE credentials and setup, fmtp
 * before rtpmap, extmap with a direction ("N/recvonly"), an SSRC FID group after the SSRCs. */
#define SDP_FIREFOX_OFFER                                                                          \
  "v=0\r\n"                                                                                        \
  "o=mozilla...THIS_IS_SDPARTA-99.0 5093553011645839470 0 IN IP4 0.0.0.0\r\n"                      \
  "s=-\r\n"                                                                                        \
  "t=0 0\r\n"                                                                                      \
  "a=fingerprint:sha-256 "                                                                         \
  "E1:5B:0A:9C:7E:32:44:D8:61:F0:3A:BC:19:8E:27:C5:D4:06:93:AA:5F:E8:12:7B:C3:90:4D:66:B1:0F:E2:"  \
  "7A\r\n"                                                                                         \
  "a=group:BUNDLE 0 1\r\n"                                                                         \
  "a=ice-options:trickle\r\n"                                                                      \
  "a=msid-semantic:WMS *\r\n"                                                                      \
  "m=audio 9 UDP/TLS/RTP/SAVPF 109 9 0 8 101\r\n"                                                  \
  "c=IN IP4 0.0.0.0\r\n"                                                                           \
  "a=sendrecv\r\n"                                                                                 \
  "a=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level\r\n"                                     \
  "a=extmap:2/recvonly urn:ietf:params:rtp-hdrext:csrc-audio-level\r\n"                            \
  "a=extmap:3 urn:ietf:params:rtp-hdrext:sdes:mid\r\n"                                             \
  "a=fmtp:109 maxplaybackrate=48000;stereo=1;useinbandfec=1\r\n"                                   \
  "a=fmtp:101 0-15\r\n"                                                                            \
  "a=ice-pwd:6b2f3c9d1e4a7f8b0c5d2e6f9a1b3c4d\r\n"                                                 \
  "a=ice-ufrag:8a1c3e5f\r\n"                                                                       \
  "a=mid:0\r\n"                                                                                    \
  "a=msid:{4a7b9c2d-1e3f-4a5b-8c6d-7e9f0a1b2c3d} {b3c4d5e6-f7a8-4b9c-9d0e-1f2a3b4c5d6e}\r\n"       \
  "a=rtcp-mux\r\n"                                                                                 \
  "a=rtpmap:109 opus/48000/2\r\n"                                                                  \
  "a=rtpmap:9 G722/8000/1\r\n"                                                                     \
  "a=rtpmap:0 PCMU/8000\r\n"                                                                       \
  "a=rtpmap:8 PCMA/8000\r\n"                                                                       \
  "a=rtpmap:101 telephone-event/8000\r\n"                                                          \
  "a=setup:actpass\r\n"                                                                            \
  "a=ssrc:2655508255 cname:{e2f4a6b8-c0d2-4e4f-a6b8-c0d2e4f6a8b0}\r\n"                             \
  "m=video 9 UDP/TLS/RTP/SAVPF 120 124 121 125 126 127 97 98 123 122 119\r\n"                      \
  "c=IN IP4 0.0.0.0\r\n"                                                                           \
  "a=sendrecv\r\n"                                                                                 \
  "a=extmap:3 urn:ietf:params:rtp-hdrext:sdes:mid\r\n"                                             \
  "a=extmap:4 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time\r\n"                      \
  "a=extmap:5 urn:ietf:params:rtp-hdrext:toffset\r\n"                                              \
  "a=extmap:6/recvonly http://www.webrtc.org/experiments/rtp-hdrext/playout-delay\r\n"             \
  "a=extmap:7 http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01\r\n"       \
  "a=fmtp:126 profile-level-id=42e01f;level-asymmetry-allowed=1;packetization-mode=1\r\n"          \
  "a=fmtp:97 profile-level-id=42e01f;level-asymmetry-allowed=1\r\n"                                \
  "a=fmtp:120 max-fs=12288;max-fr=60\r\n"                                                          \
  "a=fmtp:124 apt=120\r\n"                                                                         \
  "a=fmtp:121 max-fs=12288;max-fr=60\r\n"                                                          \
  "a=fmtp:125 apt=121\r\n"                                                                         \
  "a=fmtp:127 apt=126\r\n"                                                                         \
  "a=fmtp:98 apt=97\r\n"                                                                           \
  "a=fmtp:119 apt=122\r\n"                                                                         \
  "a=ice-pwd:6b2f3c9d1e4a7f8b0c5d2e6f9a1b3c4d\r\n"                                                 \
  "a=ice-ufrag:8a1c3e5f\r\n"                                                                       \
  "a=mid:1\r\n"                                                                                    \
  "a=msid:{4a7b9c2d-1e3f-4a5b-8c6d-7e9f0a1b2c3d} {d9e0f1a2-b3c4-4d5e-8f6a-7b8c9d0e1f2a}\r\n"       \
  "a=rtcp-fb:120 nack\r\n"                                                                         \
  "a=rtcp-fb:120 nack pli\r\n"                                                                     \
  "a=rtcp-fb:120 ccm fir\r\n"                                                                      \
  "a=rtcp-fb:120 goog-remb\r\n"                                                                    \
  "a=rtcp-fb:120 transport-cc\r\n"                                                                 \
  "a=rtcp-fb:121 nack\r\n"                                                                         \
  "a=rtcp-fb:121 nack pli\r\n"                                                                     \
  "a=rtcp-fb:121 ccm fir\r\n"                                                                      \
  "a=rtcp-fb:121 goog-remb\r\n"                                                                    \
  "a=rtcp-fb:121 transport-cc\r\n"                                                                 \
  "a=rtcp-fb:126 nack\r\n"                                                                         \
  "a=rtcp-fb:126 nack pli\r\n"                                                                     \
  "a=rtcp-fb:126 ccm fir\r\n"                                                                      \
  "a=rtcp-fb:126 goog-remb\r\n"                                                                    \
  "a=rtcp-fb:126 transport-cc\r\n"                                                                 \
  "a=rtcp-fb:97 nack\r\n"                                                                          \
  "a=rtcp-fb:97 nack pli\r\n"                                                                      \
  "a=rtcp-fb:97 ccm fir\r\n"                                                                       \
  "a=rtcp-fb:97 goog-remb\r\n"                                                                     \
  "a=rtcp-fb:97 transport-cc\r\n"                                                                  \
  "a=rtcp-fb:123 nack\r\n"                                                                         \
  "a=rtcp-fb:123 nack pli\r\n"                                                                     \
  "a=rtcp-fb:123 ccm fir\r\n"                                                                      \
  "a=rtcp-fb:123 goog-remb\r\n"                                                                    \
  "a=rtcp-fb:123 transport-cc\r\n"                                                                 \
  "a=rtcp-fb:122 nack\r\n"                                                                         \
  "a=rtcp-fb:122 nack pli\r\n"                                                                     \
  "a=rtcp-fb:122 ccm fir\r\n"                                                                      \
  "a=rtcp-fb:122 goog-remb\r\n"                                                                    \
  "a=rtcp-fb:122 transport-cc\r\n"                                                                 \
  "a=rtcp-mux\r\n"                                                                                 \
  "a=rtcp-rsize\r\n"                                                                               \
  "a=rtpmap:120 VP8/90000\r\n"                                                                     \
  "a=rtpmap:124 rtx/90000\r\n"                                                                     \
  "a=rtpmap:121 VP9/90000\r\n"                                                                     \
  "a=rtpmap:125 rtx/90000\r\n"                                                                     \
  "a=rtpmap:126 H264/90000\r\n"                                                                    \
  "a=rtpmap:127 rtx/90000\r\n"                                                                     \
  "a=rtpmap:97 H264/90000\r\n"                                                                     \
  "a=rtpmap:98 rtx/90000\r\n"                                                                      \
  "a=rtpmap:123 ulpfec/90000\r\n"                                                                  \
  "a=rtpmap:122 red/90000\r\n"                                                                     \
  "a=rtpmap:119 rtx/90000\r\n"                                                                     \
  "a=setup:actpass\r\n"                                                                            \
  "a=ssrc:3340536290 cname:{e2f4a6b8-c0d2-4e4f-a6b8-c0d2e4f6a8b0}\r\n"                             \
  "a=ssrc:2896686521 cname:{e2f4a6b8-c0d2-4e4f-a6b8-c0d2e4f6a8b0}\r\n"                             \
  "a=ssrc-group:FID 3340536290 2896686521\r\n"

/* Chromium 120 answer to a server offer (ice-lite, actpass) with two remote tracks and one
 * slot the server had rejected: Chromium takes the DTLS client role, receives only, and keeps
 * the rejected m-line at port 0. */
#define SDP_CHROME_ANSWER                                                                          \
  "v=0\r\n"                                                                                        \
  "o=- 6541224836417711010 2 IN IP4 127.0.0.1\r\n"                                                 \
  "s=-\r\n"                                                                                        \
  "t=0 0\r\n"                                                                                      \
  "a=group:BUNDLE 0 1\r\n"                                                                         \
  "a=extmap-allow-mixed\r\n"                                                                       \
  "a=msid-semantic: WMS\r\n"                                                                       \
  "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\n"                                                            \
  "c=IN IP4 0.0.0.0\r\n"                                                                           \
  "a=rtcp:9 IN IP4 0.0.0.0\r\n"                                                                    \
  "a=ice-ufrag:p9Vr\r\n"                                                                           \
  "a=ice-pwd:H3kq8Zt2Wm5Yc7Nb1Xf4Ls6D\r\n"                                                         \
  "a=ice-options:trickle\r\n"                                                                      \
  "a=fingerprint:sha-256 "                                                                         \
  "3D:A9:51:E7:0C:84:B2:6F:19:D5:73:2A:C8:4E:90:1B:F6:63:AD:28:5C:E1:07:94:BB:3F:72:D0:8A:46:1C:"  \
  "E5\r\n"                                                                                         \
  "a=setup:active\r\n"                                                                             \
  "a=mid:0\r\n"                                                                                    \
  "a=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level\r\n"                                     \
  "a=extmap:3 http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01\r\n"       \
  "a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid\r\n"                                             \
  "a=recvonly\r\n"                                                                                 \
  "a=rtcp-mux\r\n"                                                                                 \
  "a=rtpmap:111 opus/48000/2\r\n"                                                                  \
  "a=rtcp-fb:111 transport-cc\r\n"                                                                 \
  "a=fmtp:111 minptime=10;useinbandfec=1\r\n"                                                      \
  "m=video 9 UDP/TLS/RTP/SAVPF 96 97\r\n"                                                          \
  "c=IN IP4 0.0.0.0\r\n"                                                                           \
  "a=rtcp:9 IN IP4 0.0.0.0\r\n"                                                                    \
  "a=ice-ufrag:p9Vr\r\n"                                                                           \
  "a=ice-pwd:H3kq8Zt2Wm5Yc7Nb1Xf4Ls6D\r\n"                                                         \
  "a=ice-options:trickle\r\n"                                                                      \
  "a=fingerprint:sha-256 "                                                                         \
  "3D:A9:51:E7:0C:84:B2:6F:19:D5:73:2A:C8:4E:90:1B:F6:63:AD:28:5C:E1:07:94:BB:3F:72:D0:8A:46:1C:"  \
  "E5\r\n"                                                                                         \
  "a=setup:active\r\n"                                                                             \
  "a=mid:1\r\n"                                                                                    \
  "a=extmap:3 http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01\r\n"       \
  "a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid\r\n"                                             \
  "a=recvonly\r\n"                                                                                 \
  "a=rtcp-mux\r\n"                                                                                 \
  "a=rtcp-rsize\r\n"                                                                               \
  "a=rtpmap:96 VP8/90000\r\n"                                                                      \
  "a=rtcp-fb:96 transport-cc\r\n"                                                                  \
  "a=rtcp-fb:96 ccm fir\r\n"                                                                       \
  "a=rtcp-fb:96 nack\r\n"                                                                          \
  "a=rtcp-fb:96 nack pli\r\n"                                                                      \
  "a=rtpmap:97 rtx/90000\r\n"                                                                      \
  "a=fmtp:97 apt=96\r\n"                                                                           \
  "m=video 0 UDP/TLS/RTP/SAVPF 96\r\n"                                                             \
  "c=IN IP4 0.0.0.0\r\n"                                                                           \
  "a=inactive\r\n"                                                                                 \
  "a=mid:2\r\n"                                                                                    \
  "a=rtpmap:96 VP8/90000\r\n"

/* Chromium 120 camera offer munged the way Jitsi does for legacy SSRC simulcast: the page adds two
 * layers (SSRC + RTX each) to the sendonly video m-line, one a=ssrc-group:FID per layer and
 * a=ssrc-group:SIM lowest first. Chromium's own FID group and a=ssrc lines come first, the
 * munged lines after them; the session part and the audio m-line are SDP_CHROME_OFFER's. */
#define SDP_CHROME_SIM_VIDEO(mid)                                                                  \
  SDP_CHROME_VIDEO_HEAD(mid)                                                                       \
  "a=sendonly\r\n"                                                                                 \
  "a=msid:5c1d9a2e-4f6b-4c1e-9b8a-2f0d6e7c3a11 7a6c2d1e-0b9f-4e3a-a5d8-6c4b2f1e9d07\r\n"           \
  SDP_CHROME_VIDEO_CODECS                                                                          \
  "a=ssrc-group:FID 1111111111 2111111111\r\n"                                                     \
  "a=ssrc:1111111111 cname:k4Jb8QzYv2Lw9XcT\r\n"                                                   \
  "a=ssrc:1111111111 msid:5c1d9a2e-4f6b-4c1e-9b8a-2f0d6e7c3a11 "                                   \
  "7a6c2d1e-0b9f-4e3a-a5d8-6c4b2f1e9d07\r\n"                                                       \
  "a=ssrc:2111111111 cname:k4Jb8QzYv2Lw9XcT\r\n"                                                   \
  "a=ssrc:2111111111 msid:5c1d9a2e-4f6b-4c1e-9b8a-2f0d6e7c3a11 "                                   \
  "7a6c2d1e-0b9f-4e3a-a5d8-6c4b2f1e9d07\r\n"                                                       \
  "a=ssrc:1222222222 cname:k4Jb8QzYv2Lw9XcT\r\n"                                                   \
  "a=ssrc:1222222222 msid:5c1d9a2e-4f6b-4c1e-9b8a-2f0d6e7c3a11 "                                   \
  "7a6c2d1e-0b9f-4e3a-a5d8-6c4b2f1e9d07\r\n"                                                       \
  "a=ssrc:2222222222 cname:k4Jb8QzYv2Lw9XcT\r\n"                                                   \
  "a=ssrc:2222222222 msid:5c1d9a2e-4f6b-4c1e-9b8a-2f0d6e7c3a11 "                                   \
  "7a6c2d1e-0b9f-4e3a-a5d8-6c4b2f1e9d07\r\n"                                                       \
  "a=ssrc:1333333333 cname:k4Jb8QzYv2Lw9XcT\r\n"                                                   \
  "a=ssrc:1333333333 msid:5c1d9a2e-4f6b-4c1e-9b8a-2f0d6e7c3a11 "                                   \
  "7a6c2d1e-0b9f-4e3a-a5d8-6c4b2f1e9d07\r\n"                                                       \
  "a=ssrc:2333333333 cname:k4Jb8QzYv2Lw9XcT\r\n"                                                   \
  "a=ssrc:2333333333 msid:5c1d9a2e-4f6b-4c1e-9b8a-2f0d6e7c3a11 "                                   \
  "7a6c2d1e-0b9f-4e3a-a5d8-6c4b2f1e9d07\r\n"                                                       \
  "a=ssrc-group:FID 1222222222 2222222222\r\n"                                                     \
  "a=ssrc-group:FID 1333333333 2333333333\r\n"                                                     \
  "a=ssrc-group:SIM 1111111111 1222222222 1333333333\r\n"

/* SDP_CHROME_OFFER with its rid camera (mid 1) replaced by SDP_CHROME_SIM_VIDEO("1"): audio,
 * the SSRC-simulcast camera and the screen share. Writes into buf; returns its length or -1. */
static inline int sdp_chrome_sim_offer(char *buf, size_t cap) {
  const char *offer = SDP_CHROME_OFFER, *cam = strstr(offer, "m=video");
  const char *screen = cam ? strstr(cam + 1, "m=video") : NULL;
  if (!screen)
    return -1;
  int n = snprintf(buf, cap, "%.*s%s%s", (int)(cam - offer), offer, SDP_CHROME_SIM_VIDEO("1"), screen);
  return n < 0 || (size_t)n >= cap ? -1 : n;
}

/* GStreamer webrtcbin 1.22 offer with bundle-policy max-bundle: the first m-line carries the
 * transport; the second is port 0 + a=bundle-only inside the BUNDLE group (RFC 8843 §6, JSEP)
 * without transport attributes of its own. Media-level mids as webrtcbin names them. */
#define SDP_WEBRTCBIN_MAX_BUNDLE_OFFER                                                             \
  "v=0\r\n"                                                                                        \
  "o=- 2837462515347082016 0 IN IP4 0.0.0.0\r\n"                                                   \
  "s=-\r\n"                                                                                        \
  "t=0 0\r\n"                                                                                      \
  "a=ice-options:trickle\r\n"                                                                      \
  "a=group:BUNDLE video0 audio1\r\n"                                                               \
  "m=video 9 UDP/TLS/RTP/SAVPF 96\r\n"                                                             \
  "c=IN IP4 0.0.0.0\r\n"                                                                           \
  "a=setup:actpass\r\n"                                                                            \
  "a=ice-ufrag:Kp7cXq0zR2mB5nVw\r\n"                                                               \
  "a=ice-pwd:d4Hs8LqT1yWm0fZc6gNa3eJrVb9uXo2k\r\n"                                                 \
  "a=rtcp-mux\r\n"                                                                                 \
  "a=rtcp-rsize\r\n"                                                                               \
  "a=sendrecv\r\n"                                                                                 \
  "a=rtpmap:96 VP8/90000\r\n"                                                                      \
  "a=rtcp-fb:96 nack\r\n"                                                                          \
  "a=rtcp-fb:96 nack pli\r\n"                                                                      \
  "a=rtcp-fb:96 ccm fir\r\n"                                                                       \
  "a=ssrc:3484078950 msid:user1714 webrtctransceiver0\r\n"                                         \
  "a=ssrc:3484078950 cname:user1714@host-b1a2c3d4\r\n"                                             \
  "a=mid:video0\r\n"                                                                               \
  "a=fingerprint:sha-256 "                                                                         \
  "5C:0E:7A:91:D3:48:2B:F6:13:A8:CE:70:4D:99:E5:21:B7:3F:6A:08:C2:DD:54:1E:8F:A3:66:0B:F9:37:E4:"  \
  "C5\r\n"                                                                                         \
  "m=audio 0 UDP/TLS/RTP/SAVPF 97\r\n"                                                             \
  "c=IN IP4 0.0.0.0\r\n"                                                                           \
  "a=bundle-only\r\n"                                                                              \
  "a=sendrecv\r\n"                                                                                 \
  "a=rtpmap:97 OPUS/48000/2\r\n"                                                                   \
  "a=rtcp-fb:97 nack\r\n"                                                                          \
  "a=fmtp:97 sprop-stereo=0;sprop-maxcapturerate=48000\r\n"                                        \
  "a=ssrc:1917441391 msid:user1714 webrtctransceiver1\r\n"                                         \
  "a=ssrc:1917441391 cname:user1714@host-b1a2c3d4\r\n"                                             \
  "a=mid:audio1\r\n"                                                                               \
  "a=rtcp-mux\r\n"

#endif
