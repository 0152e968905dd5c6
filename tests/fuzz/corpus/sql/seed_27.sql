select /* c */ 1 -- x
;