"""Translation QA: what every translated sentence is checked for, in a run and in
`id2en check` alike: numbers by value (numbers.py), English quotes kept byte for byte
(quotes.py), protected spans and glossary terms (pipeline.translate.glossary), and the
output guards (pipeline.guards). spans.py finds a sentence's spans and requirements;
check.py is the one entry point, check_pair(text, text_en)."""
