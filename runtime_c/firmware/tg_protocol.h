/* tinygen serial protocol, version 2: the firmware's side. docs/serial-protocol.md is the same text
 * for readers of the host side (tinygen/device/protocol.py).
 *
 * Every message, either way, is one frame; all integers are little endian:
 *
 *   offset  size  field
 *   0       2     sync: 0xA5 0x5A
 *   2       1     type (TG_MSG_*)
 *   3       1     sequence number: chosen by the host, echoed in the reply
 *   4       4     payload length in bytes (u32)
 *   8       N     payload
 *   8+N     4     CRC-32 (IEEE 802.3, the one of zlib.crc32) of bytes 0 .. 8+N-1 (u32)
 *
 * Requests (host -> device) and their replies (type | 0x80):
 *   HELLO 0x01, empty  -> 0x81: u16 protocol version, u16 flags (0), u32 max request payload,
 *                         32 bytes model sha256, u32 arena bytes, u8 inputs, u8 outputs,
 *                         str model name, str tinygen version, then per input, then per output
 *                         tensor: str name, u8 dtype (tg_dtype_t), u8 rank, u32 bytes,
 *                         i32 dims[rank], f32 scale, i32 zero point.
 *                         (str = u8 length + that many bytes, no terminator.)
 *   RUN 0x02, all input tensors' bytes concatenated in order
 *                      -> 0x82: i32 status (invoke()'s return), u64 instructions executed by
 *                         invoke() alone, u32 stack bytes invoke() used (painted, this run),
 *                         u32 the firmware's deepest stack use since boot (bytes below the top),
 *                         then all output tensors' bytes concatenated in order.
 *   EXIT 0x03, empty   -> 0x83, empty; then the firmware ends with exit status 0.
 * A request that cannot be served gets ERROR 0xFF: u32 code (TG_ERR_*), u32 detail.
 *   BAD_CRC      the CRC did not match (detail 0); the frame is dropped.
 *   UNKNOWN_TYPE no such request (detail: the type).
 *   BAD_LENGTH   the payload length is wrong for the type (detail: the expected length).
 *   TOO_LONG     the length exceeds the largest request (detail: that maximum). The payload is
 *                not consumed: the firmware hunts for the next sync marker in what follows.
 * Version 3 (negotiated: a HELLO carrying u16 "highest version the host speaks") adds, after a
 * v3 HELLO has opened a session:
 *   WRITE 0x04, u32 offset + data -> 0x84: u32 offset + data length (the next offset).
 *   INVOKE 0x05, u32 inputs' CRC  -> 0x85: the RUN reply's four fields, u32 output bytes, u32 CRC
 *                                    of the outputs. A repeated INVOKE with the same CRC and no
 *                                    WRITE since replays the last result without running again.
 *   READ 0x06, u32 offset, u32 n  -> 0x86: that many output bytes.
 * and the v3 HELLO reply appends u32 TG_CHUNK_BYTES. docs/serial-protocol.md has the details.
 * A firmware built with TG_TRACE also sends, during an INVOKE or RUN, one unsolicited TRACE 0xFD
 * frame per tensor an operator wrote (i32 op index, i32 tensor index, the tensor's bytes), with
 * the request's sequence number, before that request's reply.
 * Bytes outside a frame are skipped silently while hunting for sync. The firmware then keeps
 * listening. A RUN payload is received straight into the model's input tensors, so the largest
 * request is the inputs' total size and needs no buffer of its own.
 */
#ifndef TINYGEN_TG_PROTOCOL_H
#define TINYGEN_TG_PROTOCOL_H

#define TG_PROTOCOL_VERSION 3u /* 3: chunked WRITE/INVOKE/READ, sessions, FAULT frames */
#define TG_PROTOCOL_MIN_VERSION 2u /* a HELLO with an empty payload gets the v2 reply */

/* The largest data part of a WRITE or READ (v3): the firmware's only receive buffer. */
#ifndef TG_CHUNK_BYTES
#define TG_CHUNK_BYTES 256u
#endif

#define TG_SYNC_0 0xA5u
#define TG_SYNC_1 0x5Au
#define TG_HEADER_BYTES 8u
#define TG_CRC_BYTES 4u

#define TG_MSG_HELLO 0x01u
#define TG_MSG_RUN 0x02u
#define TG_MSG_EXIT 0x03u
#define TG_MSG_WRITE 0x04u  /* v3: u32 offset into the inputs, then 1..TG_CHUNK_BYTES bytes */
#define TG_MSG_INVOKE 0x05u /* v3: u32 CRC-32 of all the inputs' bytes */
#define TG_MSG_READ 0x06u   /* v3: u32 offset into the outputs, u32 count (<= TG_CHUNK_BYTES) */
#define TG_MSG_FAULT 0xFEu  /* unsolicited: u32 pc, u32 exception number, u32 CFSR; then exit */
#define TG_MSG_TRACE 0xFDu  /* unsolicited, TG_TRACE builds: i32 op, i32 tensor, the tensor's bytes */
#define TG_MSG_REPLY 0x80u /* reply type = request type | TG_MSG_REPLY */
#define TG_MSG_ERROR 0xFFu

#define TG_ERR_BAD_CRC 1u
#define TG_ERR_UNKNOWN_TYPE 2u
#define TG_ERR_BAD_LENGTH 3u
#define TG_ERR_TOO_LONG 4u
#define TG_ERR_BAD_RANGE 5u  /* WRITE/READ outside the tensors (detail: their total size) */
#define TG_ERR_INPUT_CRC 6u  /* INVOKE: the inputs held differ from the host's (detail: their CRC) */
#define TG_ERR_NO_SESSION 7u /* WRITE/INVOKE/READ before a v3 HELLO: the board was reset */

#endif /* TINYGEN_TG_PROTOCOL_H */
