/*
 * framing.c — checks on the raw request head that h2o 2.2.5 does not make.
 *
 * h2o takes the first of two Content-Length headers and frames the body by
 * it, so the rest of the body is parsed as a second request; it also accepts
 * Content-Length together with Transfer-Encoding. Between a proxy that frames
 * a request one way and a server that frames it the other, that is request
 * smuggling (RFC 9112 §6.3 says: reject, and close the connection). h2o has
 * already consumed those headers when our handler runs, but the raw head is
 * still at the start of the connection's input buffer (h2o drops a request's
 * bytes only after its response), so it is read again here.
 *
 * The same pass bounds the request target and the head, which h2o accepts
 * up to ~400 KB: 414 and 431 instead of serving them.
 */
#include "http/internal.h"

#include <h2o.h>
#include <string.h>
#include <strings.h>

static int name_is(const char *name, size_t len, const char *want)
{
    return len == strlen(want) && strncasecmp(name, want, len) == 0;
}

int http_check_framing(struct st_h2o_req_t *req, const char **title, const char **detail)
{
    if (req->version >= 0x200)
        return 0; /* HTTP/2 frames bodies itself */
    if (req->path.len > MAX_TARGET_BYTES) {
        *title = "URI Too Long";
        *detail = "The request target is longer than 8192 bytes.";
        return 414;
    }
    h2o_socket_t *sock = req->conn->callbacks->get_socket ? req->conn->callbacks->get_socket(req->conn) : NULL;
    if (!sock || !sock->input)
        return 0;
    /* Line by line, as picohttpparser reads it: a line ends with LF (CR
     * before it optional, and lines may mix both), the head with the first
     * empty line. Looking for "\r\n\r\n" instead would miss a head ending in
     * "\n\r\n", which the parser accepts: the found-by-fuzzing way around
     * this check. */
    const char *head = sock->input->bytes, *limit = head + sock->input->size;
    const char *line = memchr(head, '\n', (size_t)(limit - head)); /* skip the request line */
    int content_lengths = 0, transfer_encodings = 0, hosts = 0, ended = 0;
    while (line && ++line < limit) {
        const char *next = memchr(line, '\n', (size_t)(limit - line));
        if (!next)
            break;
        size_t len = (size_t)(next - line);
        if (len > 0 && line[len - 1] == '\r')
            len--;
        if (len == 0) {
            ended = 1;
            break;
        }
        if ((size_t)(next - head) > MAX_HEAD_BYTES) {
            *title = "Request Header Fields Too Large";
            *detail = "The request head is larger than 32 KB.";
            return 431;
        }
        const char *colon = memchr(line, ':', len);
        size_t nlen = colon ? (size_t)(colon - line) : 0;
        if (name_is(line, nlen, "content-length"))
            content_lengths++;
        else if (name_is(line, nlen, "transfer-encoding"))
            transfer_encodings++;
        else if (name_is(line, nlen, "host"))
            hosts++;
        line = next;
    }
    if (!ended)
        return 0; /* not a whole head: h2o has not parsed it either */
    *title = "Bad Request";
    if (content_lengths > 1) {
        *detail = "The request has more than one Content-Length header.";
        return 400;
    }
    if (content_lengths && transfer_encodings) {
        *detail = "The request has both Content-Length and Transfer-Encoding.";
        return 400;
    }
    if (transfer_encodings > 1) {
        *detail = "The request has more than one Transfer-Encoding header.";
        return 400;
    }
    if (hosts > 1 || (hosts == 0 && req->version >= 0x101)) {
        *detail = "An HTTP/1.1 request needs exactly one Host header.";
        return 400;
    }
    return 0;
}
