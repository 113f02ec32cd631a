"The short rule for scripts without spaces, language detection, and the base model's languages."
import json, re, socket, time
from pathlib import Path
import pytest
from hypothesis import given, settings, strategies as st
from huggingtweets.core import UserError
from huggingtweets.lang import (count_words, boring, uses_unspaced, short_rule, RULE_ORIGINAL, RULE_UNSPACED, detect_language,
                                post_languages, UNDETERMINED, MIN_CONFIDENCE, base_languages, language_warning, MULTILINGUAL)
from util import shared


# The original huggingtweets' rules, as the reference
def original_fix_text(text): return text.replace('&amp;', '&').replace('&lt;', '<').replace('&gt;', '>')

def original_clean_tweet(text):
    for w in ('http:', 'https:'):
        for pat in (f' {w}\\S+', f'{w}\\S+ ', f'\n{w}\\S+ ', f'\n{w}\\S+', f'{w}\\S+'): text = re.sub(pat, '', text)
    return ' '.join(text.split())

def original_words(text): return [w for w in text.split() if not any(b in w.lower() for b in ('http', '@', '#'))]
def original_boring(text): return len(original_words(text)) < 3

def archive_posts(folder):
    "The cleaned own posts of an X archive folder (`data/tweets.js`, or `data/tweet.js` in the old format)"
    f = next(p for p in (folder/'data'/'tweets.js', folder/'data'/'tweet.js') if p.exists())
    s = f.read_text(encoding='utf-8')
    texts = [i['tweet']['full_text'] for i in json.loads(s[s.index('['):])]
    return [original_clean_tweet(original_fix_text(t)) for t in texts if not t.startswith('RT @')]

ARCHIVES = ['andreruffert_2022-11', 'alrocar_2024-01', 'LumenInferius_2020-04_oldname']


# Short posts written for these tests, each with a plain English translation: the original rule on the
# translation gives the verdict a reader expects.
SHORT = {
'ja': [
    ('草', 'lol'),
    ('それな', 'so true'),
    ('眠い', 'sleepy'),
    ('疲れた', "I'm tired"),
    ('おはよう', 'good morning'),
    ('ありがとう！', 'thank you!'),
    ('おやすみなさい', 'good night'),
    ('おめでとう🎉', 'congrats 🎉'),
    ('了解です', 'understood'),
    ('なるほど', 'I see'),
    ('最高！', 'the best!'),
    ('かわいい', 'so cute'),
    ('行ってきます', "I'm off"),
    ('ただいま', "I'm home"),
    ('お疲れさまでした', 'good work today'),
    ('明日休み', 'day off tomorrow'),
    ('雨やばい', 'crazy rain'),
    ('ラーメン食べたい', 'I want ramen'),
    ('仕事終わった〜', 'work is done~'),
    ('会議が長すぎる', 'the meeting is too long'),
    ('また月曜日か', 'Monday again, huh'),
    ('今日は一日中雨だった', 'it rained all day today'),
    ('猫がキーボードの上で寝てる', 'the cat is sleeping on the keyboard'),
    ('お腹すいたけど冷蔵庫に何もない', "I'm hungry but the fridge is empty"),
    ('新しいブログ記事を書きました', 'I wrote a new blog post'),
    ('桜がきれいに咲いてた', 'the cherry blossoms were beautiful'),
    ('明日は早起きしないと', 'I have to get up early tomorrow'),
    ('夕焼けがきれいすぎる', 'the sunset is too pretty'),
    ('眠すぎて何もできない', 'too sleepy to do anything'),
    ('今夜のライブ楽しみ', "looking forward to tonight's show"),
    ('電車が遅れてる', 'the train is late'),
    ('寒すぎる', 'way too cold'),
    ('え、まじで？', 'wait, seriously?'),
    ('それはない', 'no way'),
    ('よろしくお願いします', 'nice to meet you'),
    ('いいね！', 'nice!'),
    ('今から帰る', 'heading home now'),
    ('風邪ひいた', 'I caught a cold'),
    ('映画館で泣いた', 'I cried at the cinema'),
    ('コーヒー飲みたい', 'I want coffee'),
],
'zh': [
    ('哈哈哈', 'hahaha'),
    ('谢谢', 'thanks'),
    ('早安', 'good morning'),
    ('晚安', 'good night'),
    ('好累', 'so tired'),
    ('太好了！', "that's great!"),
    ('生日快乐！', 'happy birthday!'),
    ('加油', 'go for it'),
    ('真的吗？', 'really?'),
    ('下雨了', "it's raining"),
    ('想吃火锅', 'want hot pot'),
    ('明天放假', 'day off tomorrow'),
    ('好想睡觉', 'I really want to sleep'),
    ('今天好累', 'so tired today'),
    ('地铁又晚点了', 'the subway is late again'),
    ('我家猫在键盘上睡着了', 'my cat fell asleep on the keyboard'),
    ('这个会开得太久了', 'this meeting went on too long'),
    ('不敢相信已经十二月了', "can't believe it's already December"),
    ('有没有人推荐几本好书？', 'can anyone recommend some good books?'),
    ('下班了，回家做饭', 'off work, going home to cook'),
    ('新专辑太好听了', 'the new album sounds great'),
    ('困得什么都做不了', 'too sleepy to do anything'),
    ('周末打算去杭州玩', 'planning a weekend trip to Hangzhou'),
    ('我也是', 'me too'),
    ('没问题', 'no problem'),
    ('笑死', 'dying of laughter'),
    ('冷死了', 'freezing'),
    ('收到', 'got it'),
    ('謝謝', 'thanks'),
    ('晚安～', 'good night~'),
    ('好開心', 'so happy'),
    ('颱風要來了', 'a typhoon is coming'),
    ('捷運又誤點了', 'the MRT is late again'),
    ('這家店的牛肉麵超好吃', "this shop's beef noodles are amazing"),
    ('今天開會開到好累', "today's meetings wore me out"),
    ('我的貓一直在睡覺', 'my cat keeps sleeping'),
    ('新的一年也請多多指教', 'please keep supporting me this year'),
    ('剛剛吃完早餐，準備上班', 'just finished breakfast, getting ready for work'),
    ('真的假的', 'for real?'),
    ('太扯了', 'ridiculous'),
],
'th': [
    ('555', 'lol'),
    ('ขอบคุณครับ', 'thank you'),
    ('ฝันดี', 'sweet dreams'),
    ('ง่วงมาก', 'so sleepy'),
    ('หิวข้าว', 'hungry'),
    ('สุขสันต์วันเกิดนะ', 'happy birthday'),
    ('เหนื่อยจัง', 'so tired'),
    ('จริงเหรอ', 'really?'),
    ('ได้เลย', 'sure'),
    ('น่ารักมาก', 'so cute'),
    ('ฝนตกอีกแล้ว', 'raining again'),
    ('อยากกินหมูกระทะ', 'I want Thai barbecue'),
    ('วันนี้เหนื่อยมาก', 'so tired today'),
    ('พรุ่งนี้ต้องตื่นเช้า', 'I have to wake up early tomorrow'),
    ('รถติดมากวันนี้', 'traffic is terrible today'),
    ('รถไฟฟ้าเสียอีกแล้ว', 'the skytrain broke down again'),
    ('แมวนอนอยู่บนคีย์บอร์ด', 'the cat is sleeping on the keyboard'),
    ('ประชุมนานเกินไป', 'the meeting is too long'),
    ('เมื่อคืนบอลสนุกมาก', "last night's match was great fun"),
    ('วันนี้ฝนตกทั้งวันเลย', 'it rained all day today'),
    ('หิวแต่ในตู้เย็นไม่มีอะไรเลย', 'hungry but nothing in the fridge'),
    ('ห้องรกมากเก็บไม่เสร็จสักที', 'my room is a mess and I never finish tidying'),
    ('ดูหนังแล้วร้องไห้เลย', 'I cried watching the movie'),
    ('พระอาทิตย์ตกสวยมาก', 'the sunset is beautiful'),
    ('คิดถึงนะ', 'miss you'),
    ('ไม่เป็นไร', 'never mind'),
    ('สวัสดีครับ', 'hello'),
    ('ยินดีด้วย', 'congratulations'),
    ('กลับบ้านแล้ว', 'home now'),
    ('อากาศร้อนมาก', 'the weather is very hot'),
],
'ko': [
    ('ㅋㅋㅋㅋㅋ', 'lol'),
    ('감사합니다', 'thank you'),
    ('잘 자요', 'good night'),
    ('졸려', 'sleepy'),
    ('배고파', 'hungry'),
    ('생일 축하해!', 'happy birthday!'),
    ('대박', 'awesome'),
    ('진짜?', 'really?'),
    ('오늘 너무 피곤하다', 'so tired today'),
    ('또 월요일이네', 'Monday again'),
    ('라면 먹고 싶다', 'I want ramen'),
    ('내일부터 휴가다', 'vacation starts tomorrow'),
    ('회의가 너무 길어', 'the meeting is too long'),
    ('지하철이 또 늦었어', 'the subway is late again'),
    ('우리 고양이가 키보드 위에서 자고 있어', 'our cat is sleeping on the keyboard'),
    ('오늘 날씨 진짜 좋다', 'the weather is really nice today'),
    ('노을이 너무 예쁘다', 'the sunset is so pretty'),
    ('영화 보다가 울었어', 'I cried watching a movie'),
    ('방 청소가 끝나지 않아', 'cleaning my room never ends'),
    ('수고하셨습니다', 'good work'),
    ('안녕하세요', 'hello'),
    ('좋은 아침', 'good morning'),
    ('축하드려요', 'congratulations'),
    ('배고픈데 냉장고에 아무것도 없어', 'hungry but nothing in the fridge'),
    ('추워졌으니 감기 조심하세요', 'it got cold so watch out for colds'),
    ('오늘 하루도 수고했어요', 'you worked hard today too'),
    ('드디어 금요일', 'finally Friday'),
    ('집에 가고 싶다', 'I want to go home'),
    ('커피 마시고 싶어', 'I want coffee'),
    ('너무 귀여워', 'so cute'),
],
'mixed': [
    ('新しいMacBook買った！ #apple', 'bought a new MacBook! #apple'),
    ('@tanaka ありがとう！', '@tanaka thanks!'),
    ('@tanaka 了解です🙏', '@tanaka got it 🙏'),
    ('今日のkeynote最高だった', "today's keynote was the best"),
    ('GitHubにコードを上げました', 'I pushed the code to GitHub'),
    ('#朝活 おはようございます', '#morningroutine good morning'),
    ('#おうち時間 クッキー焼いた🍪', '#stayhome baked cookies 🍪'),
    ('これ最高 😂😂', 'this is the best 😂😂'),
    ('Python 3.13 リリースおめでとう', 'congrats on the Python 3.13 release'),
    ('3時に起きた', 'woke up at 3'),
    ('ｗｗｗ', 'lol'),
    ('ＧＰＵ欲しい', 'want a GPU'),
    ('深夜のdeploy怖い', 'deploying late at night is scary'),
    ('LGTM👍', 'LGTM 👍'),
    ('iPhone壊れた', 'my iPhone broke'),
    ('这个feature明天上线', 'this feature ships tomorrow'),
    ('今天的meeting好长', "today's meeting was so long"),
    ('วันนี้ deploy ไม่ผ่านอีกแล้ว', 'the deploy failed again today'),
    ('(´・ω・｀)', '(´・ω・｀)'),
    ('。。。', '...'),
],
}

# Short posts written for these tests (made up, like all the posts here), 35 a language.
POSTS = {
'en': [
    'just finished my first marathon, legs are jelly',
    'why is the coffee machine always broken on mondays',
    'new blog post is up, took me way too long to write',
    "can't believe it's already december",
    'anyone else still awake?',
    'the train is late again, classic',
    'shipping the new release tonight 🚀',
    'this bug has been haunting me for three days',
    "honestly the best pizza i've had in years",
    'going offline for the weekend, see you all monday',
    'my cat just knocked my tea off the desk',
    'who wants to grab lunch tomorrow?',
    'reading a great book about the history of maps',
    'pro tip: write the tests first',
    'finally got the garden ready for spring',
    'that talk was way better than I expected',
    'I need a vacation from my vacation',
    'thanks everyone for the kind words today',
    'rain all week. of course.',
    'the new album is on repeat',
    'long day, early night',
    'is it just me or is twitter slow today',
    "we're hiring! come work with us",
    'happy birthday to the best sister ever',
    'learning rust and my brain hurts',
    'this weather is unreal',
    'off to the airport, wish me luck',
    'ok this is hilarious',
    'so proud of the team right now',
    'did not sleep at all last night',
    'hot take: tabs are better than spaces',
    'what a game last night!!',
    'slides from my talk are online now',
    'the sunset from my balcony tonight',
    'never trust a meeting without an agenda',
],
'es': [
    'qué calor hace hoy en Madrid',
    'por fin es viernes, a descansar',
    'no me puedo creer lo que acaba de pasar',
    'mañana empiezo el gimnasio, lo prometo',
    'alguien sabe dónde comprar entradas para el concierto?',
    'el tren lleva media hora de retraso',
    'qué ganas de vacaciones',
    'hoy toca paella con la familia',
    'me encanta este libro, lo recomiendo mucho',
    'estoy muerta de sueño',
    'buenos días a todos, a por el lunes',
    'gracias por venir a la charla, lo pasamos genial',
    'vaya partido el de anoche',
    'el nuevo disco es una maravilla',
    'llueve y no tengo paraguas, genial',
    'necesito un café urgentemente',
    'mi gato ha decidido dormir encima del portátil',
    'hoy he aprendido algo nuevo sobre Python',
    'estamos contratando, escríbeme si te interesa',
    'qué bonito está el cielo esta tarde',
    'feliz cumpleaños hermano, te quiero',
    'no entiendo nada de esta reunión',
    'ya están las fotos del viaje',
    'se me ha olvidado la contraseña otra vez',
    'mañana hay huelga de metro, ojo',
    'la serie nueva está muy bien hecha',
    'me voy a la playa este finde',
    'otra vez lunes, quién lo diría',
    'vaya día más largo llevo',
    'tengo hambre y son las once de la noche',
    'el código ya está en producción',
    'hay que ver cómo ha cambiado el barrio',
    'cuánta razón tienes',
    'esta tarde presento el proyecto, qué nervios',
    'me he apuntado a clases de guitarra',
],
'fr': [
    "il fait super beau aujourd'hui à Paris",
    'enfin le week-end, je vais dormir',
    "quelqu'un a des recommandations de livres ?",
    'le métro est encore en panne',
    "j'ai besoin d'un café tout de suite",
    'merci à tous pour vos messages',
    'quelle soirée hier soir',
    'on recrute ! envoyez-moi un message',
    'mon chat dort sur mon clavier',
    "je n'arrive pas à croire que c'est déjà décembre",
    'la réunion aurait pu être un mail',
    'trop contente de vous voir ce soir',
    'nouvelle vidéo en ligne demain',
    'ce bug me rend fou depuis ce matin',
    'il pleut encore, évidemment',
    'bon appétit tout le monde',
    'je pars en vacances la semaine prochaine',
    "c'était un super match",
    "j'ai raté mon train, la journée commence bien",
    'le nouvel album est incroyable',
    'joyeux anniversaire ma puce',
    'on se voit au bar après le boulot ?',
    'qui veut venir au cinéma ce soir',
    'je suis crevé, bonne nuit',
    'les slides de ma présentation sont en ligne',
    "j'apprends le japonais depuis trois mois",
    "c'est la grève demain, pensez à vous organiser",
    'ce fromage est une tuerie',
    'toujours pas reçu mon colis',
    'premier jour dans ma nouvelle boîte',
    'franchement je ne comprends pas',
    'la vue depuis la terrasse est magnifique',
    'vivement le printemps',
    'petite balade au bord de la mer',
    "j'ai enfin fini ce projet",
],
'de': [
    'endlich Wochenende, ich bin so müde',
    'die Bahn hat schon wieder Verspätung',
    'heute gibt es Kuchen im Büro',
    'kann mir jemand ein gutes Buch empfehlen?',
    'ich brauche dringend einen Kaffee',
    'was für ein Spiel gestern Abend',
    'wir stellen ein, meldet euch bei mir',
    'meine Katze schläft auf der Tastatur',
    'danke für die vielen lieben Nachrichten',
    'es regnet seit drei Tagen',
    'der Vortrag war richtig gut',
    'morgen geht es in den Urlaub',
    'alles Gute zum Geburtstag, Mama',
    'dieser Fehler macht mich wahnsinnig',
    'neuer Blogartikel ist online',
    'wer kommt heute Abend mit ins Kino?',
    'das neue Album ist der Hammer',
    'ich kann nicht schlafen',
    'schon wieder Montag, wie konnte das passieren',
    'die Folien zu meinem Vortrag sind jetzt online',
    'heute habe ich etwas Neues über Rust gelernt',
    'Feierabend, endlich',
    'der Sonnenuntergang heute war wunderschön',
    'ich habe keine Lust mehr auf Meetings',
    'erster Tag im neuen Job',
    'mein Paket ist immer noch nicht da',
    'Frühling, wo bleibst du',
    'das Essen hier ist unglaublich lecker',
    'bin gespannt auf morgen',
    'gute Nacht zusammen',
    'warum ist das Internet heute so langsam',
    'ich fahre morgen mit dem Fahrrad zur Arbeit',
    'was für ein schöner Tag am See',
    'das Konzert war ausverkauft',
    'ich lerne gerade Japanisch',
],
'pt': [
    'que calor hoje em São Paulo',
    'finalmente sexta-feira, bora descansar',
    'alguém recomenda um livro bom?',
    'o ônibus atrasou de novo',
    'preciso de um café urgente',
    'obrigado a todos pelas mensagens',
    'que jogo foi esse ontem',
    'estamos contratando, me chama',
    'meu gato dormiu em cima do teclado',
    'não acredito que já é dezembro',
    'essa reunião podia ser um email',
    'amanhã começo a academia, juro',
    'o novo álbum está incrível',
    'esse bug está me deixando maluco',
    'chovendo de novo, claro',
    'feliz aniversário, mãe',
    'vou para a praia no fim de semana',
    'hoje aprendi uma coisa nova sobre Python',
    'estou morrendo de sono',
    'quem vai no show hoje à noite?',
    'os slides da palestra já estão online',
    'primeiro dia no trabalho novo',
    'minha encomenda ainda não chegou',
    'saudades de viajar',
    'bom dia pra quem acordou cedo',
    'que pôr do sol lindo hoje',
    'não aguento mais segunda-feira',
    'a comida aqui é maravilhosa',
    'boa noite, pessoal',
    'tô muito feliz com o resultado',
    'o trânsito hoje está impossível',
    'comecei a estudar japonês',
    'alguém sabe se a loja abre domingo?',
    'valeu pela força, galera',
    'vou dormir cedo hoje',
],
'ja': [
    '今日は一日中雨だった',
    'やっと金曜日！週末はゆっくりしたい',
    '新しいブログ記事を書きました',
    '電車が遅れていて会社に間に合わない',
    'コーヒー飲まないと目が覚めない',
    '昨日の試合すごかったね',
    '猫がキーボードの上で寝てる',
    'もう12月とか信じられない',
    'おすすめの本があったら教えてください',
    'ラーメン食べたい',
    '明日から夏休みです',
    'このバグ三日も直らない',
    'みなさん応援ありがとうございました',
    '眠すぎて何もできない',
    '新しいアルバム最高すぎる',
    '今夜のライブ楽しみ',
    '会議が長すぎる',
    '誕生日おめでとう！',
    '久しぶりに実家に帰ってきた',
    '桜がきれいに咲いてた',
    '明日は早起きしないと',
    '仕事終わった〜',
    'お腹すいたけど冷蔵庫に何もない',
    '今日のプレゼン緊張した',
    'スライドを公開しました',
    '週末は京都に行く予定',
    '駅前のカフェが閉店してしまった',
    '部屋の片付けがまったく終わらない',
    'やっとPython覚えてきた',
    '寒くなってきたので風邪に気をつけて',
    '今年もよろしくお願いします',
    '映画館で泣いてしまった',
    '夕焼けがきれいすぎる',
    'また月曜日か',
    'おやすみなさい',
],
'zh': [
    '今天天气真好，出去走走',
    '终于到周五了，好想睡觉',
    '有没有人推荐几本好书？',
    '地铁又晚点了',
    '不喝咖啡根本醒不过来',
    '昨晚的比赛太精彩了',
    '我家猫在键盘上睡着了',
    '不敢相信已经十二月了',
    '这个会开得太久了',
    '好想吃火锅',
    '明天开始放假啦',
    '这个bug修了三天还没好',
    '谢谢大家的支持',
    '困得什么都做不了',
    '新专辑太好听了',
    '今晚的演唱会好期待',
    '生日快乐！',
    '好久没回老家了',
    '樱花开得好漂亮',
    '下班了，回家做饭',
    '我们在招人，有兴趣的私信我',
    '今天学了一点新的Python知识',
    '周末打算去杭州玩',
    '今天的天氣真的很好',
    '終於放假了，好開心',
    '這家店的牛肉麵超好吃',
    '捷運又誤點了',
    '有人知道這本書在哪裡買嗎？',
    '我的貓一直在睡覺',
    '今天開會開到好累',
    '謝謝大家的祝福',
    '新的一年也請多多指教',
    '晚上要不要一起去看電影',
    '颱風要來了，大家小心',
    '剛剛吃完早餐，準備上班',
],
'ko': [
    '오늘 날씨 진짜 좋다',
    '드디어 금요일이다 주말에 푹 쉬어야지',
    '좋은 책 추천해 주실 분 있나요?',
    '지하철이 또 늦었어',
    '커피 없으면 못 일어나',
    '어제 경기 진짜 대박이었다',
    '우리 고양이가 키보드 위에서 자고 있어',
    '벌써 12월이라니 믿을 수가 없네',
    '회의가 너무 길어',
    '라면 먹고 싶다',
    '내일부터 휴가다',
    '이 버그 사흘째 못 고치고 있음',
    '응원해 주셔서 감사합니다',
    '너무 졸려서 아무것도 못 하겠다',
    '새 앨범 너무 좋아',
    '오늘 밤 콘서트 기대된다',
    '생일 축하해!',
    '오랜만에 본가에 왔어',
    '벚꽃이 예쁘게 피었다',
    '퇴근했다 집에 가서 밥 해야지',
    '저희 팀에서 사람 뽑아요 관심 있으면 연락 주세요',
    '오늘 파이썬 새로운 거 배웠다',
    '주말에 부산 가려고',
    '역 앞 카페가 문을 닫았다',
    '방 청소가 끝나지 않아',
    '발표 너무 떨렸어',
    '추워졌으니 감기 조심하세요',
    '올해도 잘 부탁드립니다',
    '영화 보다가 울었어',
    '노을이 너무 예쁘다',
    '또 월요일이네',
    '잘 자요',
    '배고픈데 냉장고에 아무것도 없어',
    '오늘 하루도 수고했어요',
    '내일 일찍 일어나야 해',
],
'th': [
    'วันนี้ฝนตกทั้งวันเลย',
    'ในที่สุดก็วันศุกร์ อยากนอนยาวๆ',
    'มีใครแนะนำหนังสือดีๆ บ้างไหม',
    'รถไฟฟ้าเสียอีกแล้ว',
    'ไม่ได้กินกาแฟตื่นไม่ไหวจริงๆ',
    'เมื่อคืนบอลสนุกมาก',
    'แมวนอนอยู่บนคีย์บอร์ด',
    'ไม่อยากเชื่อว่าธันวาคมแล้ว',
    'ประชุมนานเกินไป',
    'อยากกินหมูกระทะ',
    'พรุ่งนี้เริ่มหยุดยาวแล้ว',
    'บั๊กนี้แก้มาสามวันยังไม่หาย',
    'ขอบคุณทุกคนที่ให้กำลังใจนะครับ',
    'ง่วงมากทำอะไรไม่ได้เลย',
    'อัลบั้มใหม่เพราะมาก',
    'คืนนี้ไปคอนเสิร์ตตื่นเต้นสุดๆ',
    'สุขสันต์วันเกิดนะ',
    'นานๆ ทีได้กลับบ้านต่างจังหวัด',
    'เลิกงานแล้ว กลับบ้านไปทำกับข้าว',
    'ทีมเรากำลังรับสมัครคนอยู่ สนใจทักมาได้เลย',
    'วันนี้ได้เรียนรู้เรื่องใหม่เกี่ยวกับ Python',
    'เสาร์อาทิตย์นี้จะไปเชียงใหม่',
    'ร้านกาแฟหน้าสถานีปิดไปแล้ว',
    'ห้องรกมากเก็บไม่เสร็จสักที',
    'พรีเซนต์วันนี้ตื่นเต้นมาก',
    'อากาศเริ่มหนาวแล้ว ระวังไม่สบายนะ',
    'ปีนี้ก็ฝากตัวด้วยนะครับ',
    'ดูหนังแล้วร้องไห้เลย',
    'พระอาทิตย์ตกสวยมาก',
    'วันจันทร์อีกแล้วเหรอ',
    'ฝันดีนะทุกคน',
    'หิวแต่ในตู้เย็นไม่มีอะไรเลย',
    'วันนี้เหนื่อยมาก',
    'พรุ่งนี้ต้องตื่นเช้า',
    'รถติดมากวันนี้',
],
'ar': [
    'الجو جميل جدا اليوم',
    'أخيرا جاء يوم الجمعة',
    'هل يمكن لأحد أن ينصحني بكتاب جيد؟',
    'القطار متأخر مرة أخرى',
    'أحتاج إلى قهوة الآن',
    'شكرا للجميع على الرسائل الجميلة',
    'يا لها من مباراة أمس',
    'قطتي نائمة على لوحة المفاتيح',
    'لا أصدق أننا في ديسمبر',
    'هذا الاجتماع طويل جدا',
    'كل عام وأنتم بخير',
    'عيد ميلاد سعيد يا أمي',
    'غدا أبدأ إجازتي',
    'هذه المشكلة في الكود تجعلني مجنونا',
    'الألبوم الجديد رائع',
    'أنا متعب جدا، تصبحون على خير',
    'نحن نوظف، راسلوني إذا كنتم مهتمين',
    'تعلمت اليوم شيئا جديدا عن بايثون',
    'سأسافر إلى دبي في نهاية الأسبوع',
    'المطر لا يتوقف منذ ثلاثة أيام',
    'صباح الخير يا أصدقاء',
    'الغروب اليوم كان رائعا',
    'أول يوم في عملي الجديد',
    'لم يصل طردي حتى الآن',
    'من يريد أن يذهب إلى السينما الليلة؟',
    'الأكل هنا لذيذ جدا',
    'الحمد لله على كل شيء',
    'رمضان كريم',
    'الزحمة اليوم لا تطاق',
    'أنا فخور جدا بالفريق',
    'الشرائح متاحة الآن على الموقع',
    'لا أستطيع النوم',
    'يوم طويل جدا',
    'اشتقت للسفر',
    'جمعة مباركة',
],
'ru': [
    'сегодня отличная погода',
    'наконец-то пятница, хочу выспаться',
    'посоветуйте хорошую книгу',
    'метро опять задерживается',
    'без кофе я не человек',
    'какой вчера был матч!',
    'кот уснул на клавиатуре',
    'не верится, что уже декабрь',
    'это совещание слишком длинное',
    'хочу пельменей',
    'завтра начинается отпуск',
    'третий день не могу починить этот баг',
    'спасибо всем за поддержку',
    'так хочется спать, что ничего не могу делать',
    'новый альбом просто огонь',
    'с днём рождения, мама!',
    'давно не был дома у родителей',
    'мы нанимаем, пишите в личку',
    'сегодня узнал кое-что новое про Python',
    'на выходных еду в Питер',
    'дождь не прекращается уже три дня',
    'доброе утро всем',
    'закат сегодня просто нереальный',
    'первый день на новой работе',
    'посылка до сих пор не пришла',
    'кто со мной в кино сегодня?',
    'тут очень вкусно кормят',
    'пробки сегодня жуткие',
    'горжусь нашей командой',
    'слайды доклада уже на сайте',
    'не могу уснуть',
    'очень длинный день',
    'скучаю по путешествиям',
    'опять понедельник',
    'всем спокойной ночи',
],
}

# Posts with no language to tell
UNDECIDABLE = ['😂😂😂', '🔥🔥', '👀', '❤️', '🙏🏻✨', '😭😭😭😭', '🤣', '💯💯', '🎉🎉🎉', '😴', '', '   ', '@jack', '@alice @bob', '#tbt', '123', '10/10', '!!!', '...', '?', 'ok', 'lol', '^_^', ':)']

# Mixed posts and the language a reader would name
MIXED = [
    ('新しいMacBook買った！ #apple', 'ja'),
    ('今日のkeynote最高だった @tim', 'ja'),
    ('GitHubにコードを上げました', 'ja'),
    ('这个feature明天上线', 'zh'),
    ('今天的meeting好长', 'zh'),
    ('오늘 meetup 재밌었다', 'ko'),
    ('deploy 끝났다 퇴근!', 'ko'),
    ('check out my new video, so proud of it 🎥', 'en'),
    ('merci beaucoup for the invite, it was great!', 'en'),
    ('no sé qué hacer con este deadline', 'es'),
    ('le meeting de ce matin était trop long', 'fr'),
    ('das Release ist endlich live 🎉', 'de'),
    ('bom dia! coffee first ☕', 'pt'),
    ('วันนี้ deploy ไม่ผ่านอีกแล้ว', 'th'),
    ('сегодня релиз, всем спасибо 🙌', 'ru'),
    ('مبروك للفريق على الإطلاق الجديد 🎉', 'ar'),
]


# The short rule

@pytest.mark.parametrize('name', ARCHIVES)
def test_real_archives_as_original(name):
    posts = archive_posts(shared('data', 'archives', name))
    assert len(posts) > 10
    assert [boring(t) for t in posts] == [original_boring(t) for t in posts]
    assert [count_words(t) for t in posts] == [len(original_words(t)) for t in posts]
    assert short_rule(posts) == RULE_ORIGINAL

_plain = st.characters(exclude_categories=('Cs',)).filter(lambda c: not uses_unspaced(c))
_bits = st.sampled_from([' ', '  ', '\n', '\t', '@', '#', 'http', 'HTTP', 'https://t.co/x', '한국어', 'ｗｗ', '🙂', '１２', 'ok'])

@settings(max_examples=400, deadline=None)
@given(st.lists(st.one_of(_plain, _bits), max_size=40).map(''.join))
def test_spaced_text_counts_as_original(text):
    assert not uses_unspaced(text)
    assert count_words(text) == len(original_words(text))
    assert boring(text) == original_boring(text)

@pytest.mark.parametrize('lang, least', [('ja', 0.8), ('zh', 0.8), ('th', 0.85), ('ko', 0.95), ('mixed', 0.75)])
def test_short_posts_agree_with_their_translation(lang, least):
    rows = SHORT[lang]
    agree = sum(boring(p) == original_boring(en) for p, en in rows)
    assert agree / len(rows) >= least, [(p, count_words(p), en) for p, en in rows if boring(p) != original_boring(en)]

def test_unspaced_scripts_need_the_new_rule():
    "The original keeps almost none of them; the new rule keeps most of the long ones"
    for lang in ('ja', 'zh', 'th'):
        long = [p for p, en in SHORT[lang] if not original_boring(en)]
        assert sum(not original_boring(p) for p in long) <= 1
        assert sum(not boring(p) for p in long) >= 2 / 3 * len(long)
        assert all(uses_unspaced(p) for p, _ in SHORT[lang] if p != '555')

def test_hangul_keeps_spaces():
    for p, _ in SHORT['ko']:
        assert not uses_unspaced(p)
        assert count_words(p) == len(original_words(p))

@pytest.mark.parametrize('text, n', [
    ('草', 1), ('谢谢', 1), ('ขอบคุณครับ', 2), ('555', 1), ('ｗｗｗ', 1), ('。。。', 1), ('(´・ω・｀)', 1),
    ('おはようございます', 4), ('今日は一日中雨だった', 5), ('這家店的牛肉麵超好吃', 5),
    ('3時に起きた', 3), ('iPhone壊れた', 2), ('GitHubにコードを上げました', 6),
    ('@tanaka ありがとう！', 2), ('#朝活 おはようございます', 4), ('今日も#朝活', 1), ('今日は@tanakaさんとランチ', 4),
    ('見てね https://t.co/abc', 1), ('見てねhttps://t.co/abc', 0), ('これ最高 😂😂', 3), ('新しいMacBook買った！ #apple', 4),
    ('ในที่สุดก็วันศุกร์ อยากนอนยาวๆ', 7), ('วันนี้ deploy ไม่ผ่านอีกแล้ว', 5),
])
def test_count_words(text, n):
    assert count_words(text) == n

def test_mixed_posts():
    assert boring('@tanaka ありがとう！') and boring('#おうち時間 クッキー') and boring('LGTM👍')
    assert not boring('#おうち時間 クッキー焼いた🍪') and not boring('深夜のdeploy怖い')
    assert short_rule(['so true', 'ラーメン食べたい']) == RULE_UNSPACED


# Languages

def test_detector_on_short_posts():
    right = {lang: sum(detect_language(p)[0] == lang for p in posts) / len(posts) for lang, posts in POSTS.items()}
    assert min(right.values()) >= 0.9, right
    assert sum(right.values()) / len(right) >= 0.97, right
    assert sum(detect_language(p)[0] == lang for p, lang in MIXED) >= len(MIXED) - 2

def test_undecidable_posts():
    for p in UNDECIDABLE:
        code, conf = detect_language(p)
        assert code == UNDETERMINED or conf < MIN_CONFIDENCE, (p, code, conf)
    assert detect_language('🔥🔥 !!! 10/10 @jack https://t.co/x') == (UNDETERMINED, 0.0)

def test_post_languages():
    ja, en = POSTS['ja'][:12], POSTS['en'][:4]
    got = post_languages(ja + en + UNDECIDABLE)
    assert [c for c, _ in got] == ['ja', 'en']
    assert got[0][1] == pytest.approx(0.75, abs=0.07) and got[0][1] + got[1][1] <= 1
    assert post_languages(ja + en, min_share=0.5) == [got[0]]
    assert post_languages([]) == post_languages(UNDECIDABLE) == []

@pytest.mark.parametrize('name, first', [('andreruffert_2022-11', 'en'), ('alrocar_2024-01', 'es'), ('LumenInferius_2020-04_oldname', 'en')])
def test_real_archive_languages(name, first):
    langs = post_languages([t for t in archive_posts(shared('data', 'archives', name)) if not boring(t)])
    assert langs[0][0] == first
    assert [s for _, s in langs] == sorted((s for _, s in langs), reverse=True) and all(s >= 0.1 for _, s in langs)

def test_twenty_thousand_posts_in_seconds():
    lines = shared('data', 'accounts', 'trump_tweets.jsonl').read_text(encoding='utf-8').splitlines()[:20_000]
    texts = [original_clean_tweet(original_fix_text(json.loads(l)['text'])) for l in lines]
    t = time.perf_counter()
    assert post_languages(texts)[0][0] == 'en'
    assert time.perf_counter() - t < 10


# Base models

@pytest.fixture
def no_network(monkeypatch):
    "Any connection attempt fails the test"
    def refuse(*a, **k): raise AssertionError('network access')
    monkeypatch.setattr(socket.socket, 'connect', refuse)

@pytest.mark.parametrize('base, langs', [
    ('gpt2', ['en']), ('openai-community/gpt2-large', ['en']), ('distilgpt2', ['en']), ('HuggingFaceTB/SmolLM2-135M', ['en']),
    ('meta-llama/Llama-3.2-1B', ['en', 'de', 'fr', 'it', 'pt', 'hi', 'es', 'th']), ('google/gemma-3-270m', [MULTILINGUAL]),
    ('someone/gpt2-japanese', None), ('gpt-j', None),
])
def test_known_bases(no_network, base, langs):
    assert base_languages(base) == langs

def test_qwen_is_multilingual(no_network):
    for base in ('Qwen/Qwen2.5-0.5B', 'qwen/qwen3-0.6b-base'):
        langs = base_languages(base)
        assert MULTILINGUAL in langs and {'zh', 'en', 'ja', 'ko', 'th', 'ar'} <= set(langs)

def test_local_folder(no_network, tmp_path):
    assert base_languages(str(tmp_path)) is None
    (tmp_path/'README.md').write_text('# no front matter\n')
    assert base_languages(str(tmp_path)) is None
    (tmp_path/'README.md').write_text('---\nlanguage: ja\n---\n')
    assert base_languages(str(tmp_path)) == ['ja']
    (tmp_path/'README.md').write_text('---\nlicense: mit\nlanguage:\n  - EN\n  - multilingual\n---\n# card\n')
    assert base_languages(str(tmp_path)) == ['en', MULTILINGUAL]
    (tmp_path/'README.md').write_text('---\nlanguage: [ja\n---\n')
    with pytest.raises(UserError, match='not valid YAML'): base_languages(str(tmp_path))

def test_language_warning(no_network):
    w = language_warning([('ja', 0.84), ('en', 0.16)], 'gpt2')
    assert 'Japanese (84%)' in w and 'gpt2' in w and 'Qwen/Qwen2.5-0.5B' in w and '--lora' in w and '. ' not in w
    assert 'Korean' in language_warning([('ja', 0.4), ('ko', 0.3), ('en', 0.3)], 'meta-llama/Llama-3.2-1B')
    assert language_warning([('th', 0.9)], 'meta-llama/Llama-3.2-1B') is None
    assert language_warning([('ja', 0.9)], 'Qwen/Qwen2.5-0.5B') is None
    assert language_warning([('ja', 0.9)], 'google/gemma-3-1b-pt') is None
    assert language_warning([('en', 0.6), ('ja', 0.4)], 'gpt2') is None
    assert language_warning([('ja', 0.9)], 'someone/unknown') is None
    assert language_warning([], 'gpt2') is None
