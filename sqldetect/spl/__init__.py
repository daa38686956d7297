"""The SPL front end: tokenizer, parser and syntax tree (see ``sqldetect.spl.ast``)."""
