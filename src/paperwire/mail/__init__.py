"""Mail: message building (headers, multipart) and delivery (SMTP or an outbox folder)."""
