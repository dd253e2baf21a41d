"""Email: templates, the transactional outbox and its aiosmtplib sender."""
