# Examples from Trino's documentation, functions/logical.md (the examples and both truth tables).
SELECT CAST(null AS boolean) AND true; -- null
SELECT CAST(null AS boolean) AND false; -- false
SELECT CAST(null AS boolean) AND CAST(null AS boolean); -- null
SELECT CAST(null AS boolean) OR CAST(null AS boolean); -- null
SELECT CAST(null AS boolean) OR false; -- null
SELECT CAST(null AS boolean) OR true; -- true
SELECT NOT CAST(null AS boolean); -- null
SELECT TRUE AND TRUE; -- TRUE
SELECT TRUE OR TRUE; -- TRUE
SELECT TRUE AND FALSE; -- FALSE
SELECT TRUE OR FALSE; -- TRUE
SELECT TRUE AND CAST(NULL AS boolean); -- NULL
SELECT TRUE OR CAST(NULL AS boolean); -- TRUE
SELECT FALSE AND TRUE; -- FALSE
SELECT FALSE OR TRUE; -- TRUE
SELECT FALSE AND FALSE; -- FALSE
SELECT FALSE OR FALSE; -- FALSE
SELECT FALSE AND CAST(NULL AS boolean); -- FALSE
SELECT FALSE OR CAST(NULL AS boolean); -- NULL
SELECT CAST(NULL AS boolean) AND TRUE; -- NULL
SELECT CAST(NULL AS boolean) OR TRUE; -- TRUE
SELECT CAST(NULL AS boolean) AND FALSE; -- FALSE
SELECT CAST(NULL AS boolean) OR FALSE; -- NULL
SELECT CAST(NULL AS boolean) AND CAST(NULL AS boolean); -- NULL
SELECT CAST(NULL AS boolean) OR CAST(NULL AS boolean); -- NULL
SELECT NOT TRUE; -- FALSE
SELECT NOT FALSE; -- TRUE
SELECT NOT CAST(NULL AS boolean); -- NULL
