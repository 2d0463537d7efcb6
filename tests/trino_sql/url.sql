# Examples from Trino's documentation, functions/url.md.
SELECT url_extract_protocol('http://localhost:8080/req_path');
-- http
SELECT url_extract_protocol('https://127.0.0.1:8080/req_path');
-- https
SELECT url_extract_protocol('ftp://path/file');
-- ftp
